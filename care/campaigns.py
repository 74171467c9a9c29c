"""Care campaigns: contact a chosen set of customers of some branches once, by message or by
callback (issue 8, campaigns).

- Planning (keyword-only, atomic, event `care.campaign_*`): campaign_create / campaign_update
  (draft only), campaign_import_targets (a list from core banking or a CSV: parse_target_csv),
  campaign_schedule (draft -> scheduled), campaign_cancel. Who may: `care.manage_campaign` at
  every branch of the campaign (an API key: scope care:write, through `care.change_campaign`).
- campaign_dry_run: who would be contacted and why, who is left out and why, writing nothing.
- campaigns_run (task care.run_campaigns, every minute): a due campaign starts (its targets are
  chosen once, under the campaign's row lock), then its pending targets are contacted in batches
  of CARE_CAMPAIGN_BATCH, each batch one transaction on rows taken FOR UPDATE SKIP LOCKED: two
  workers share the work and every target is contacted exactly once. Done when none is pending.
- campaign_status: the counts (targets, left out by reason, contacted, sent, delivered, failed,
  reached, callback outcomes) in one query.

Errors: PermissionDenied, BadInput(field=...), Conflict.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankservice.branches.models import Branch
from bankservice.branches.scope import ALL_BRANCHES, branch_ids_for, can_act_at
from bankservice.core.errors import BadInput, Conflict
from bankservice.customers.models import Customer, Segment
from bankservice.events.catalogue import register_event_labels
from bankservice.events.services import record
from bankservice.notify.models import NotificationStatus
from bankservice.notify.registry import MessageType, register
from bankservice.notify.services import notification_send

from .models import (
    OPEN_CALLBACK_STATES,
    AttemptResult,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    Campaign,
    CampaignChannel,
    CampaignKind,
    CampaignStatus,
    CampaignTarget,
    CareOptOut,
    ExclusionReason,
    OptOutScope,
    Priority,
    TargetSource,
    TargetStatus,
)
from .optouts import opted_out, reachable_by
from .services import callable_from, callback_create

VIEW_PERM = "care.view_campaign"
MANAGE_PERM = "care.manage_campaign"
# An API key holds scopes, not custom permissions: care:write grants change_campaign.
API_MANAGE_PERM = "care.change_campaign"
MESSAGE = "care.campaign"
MESSAGE_MAX = 500  # an SMS-sized note; the greeting, opt-out link and signature are added
NAME_MAX = 120
PURPOSE_MAX = 2000
SCRIPT_MAX = 2000
NOTE_MAX = 200
IMPORT_MAX_ROWS = 10_000
CSV_MAX_BYTES = 1024 * 1024
# The runner starts no batch after this long (the task's soft time limit is 50 s).
BUDGET_SECONDS = 40
# needs flag -> Customer field
NEEDS = {"elderly": "is_elderly", "disability": "has_disability", "pregnant": "is_pregnant"}
EDITABLE = (CampaignStatus.DRAFT,)
IMPORTABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
CANCELLABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)

EVENT_LABELS = {
    "care.campaign_created": gettext_lazy("Campaign created"),
    "care.campaign_updated": gettext_lazy("Campaign changed"),
    "care.campaign_targets_imported": gettext_lazy("Campaign list imported"),
    "care.campaign_scheduled": gettext_lazy("Campaign scheduled"),
    "care.campaign_cancelled": gettext_lazy("Campaign cancelled"),
    "care.campaign_started": gettext_lazy("Campaign started"),
    "care.campaign_finished": gettext_lazy("Campaign finished"),
}

MESSAGE_SAMPLE = {
    "text": "Happy birthday! Drop by for a small gift this month.",
    "opt_out_url": "https://bank.example/o/abc/",
}
register(
    MessageType(
        MESSAGE,
        gettext_lazy("A care campaign's message, with a greeting, an opt-out link and a signature"),
        required=("text", "opt_out_url"),
        sample=MESSAGE_SAMPLE,
    )
)
register_event_labels(EVENT_LABELS)


# --- Who may.


def manage_perm(principal) -> str:
    return API_MANAGE_PERM if getattr(principal, "is_api_client", False) else MANAGE_PERM


def may_manage(principal, branch_ids) -> bool:
    """`care.manage_campaign` (API keys: care:write) at every one of the branches."""
    perm = manage_perm(principal)
    ids = list(branch_ids)
    return bool(ids) and all(can_act_at(principal, perm, b) for b in ids)


def campaigns_visible_to(principal, perm: str = VIEW_PERM):
    """Campaigns all of whose branches the principal holds `perm` at (a campaign spanning a
    branch they may not see is not theirs to read: its targets are that branch's customers)."""
    ids = branch_ids_for(principal, perm)
    campaigns = Campaign.objects.all()
    if ids is ALL_BRANCHES:
        return campaigns
    if not ids:
        return campaigns.none()
    return (
        campaigns.filter(branches__in=ids)
        .distinct()
        .exclude(branches__in=Branch.objects.exclude(pk__in=ids))
    )


def _check_manage(actor, campaign: Campaign) -> None:
    if not may_manage(actor, campaign.branches.values_list("pk", flat=True)):
        raise PermissionDenied(_("Your role does not allow running campaigns at these branches."))


def _event(type_: str, actor, campaign: Campaign, **payload) -> None:
    record(
        type=f"care.{type_}",
        actor=actor,
        branch=campaign.branches.order_by("pk").first(),
        subject=campaign,
        payload={"campaign_id": campaign.pk, "status": campaign.status, **payload},
    )


def _lock(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


# --- Creating and changing.


def _text(value, field_name: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise BadInput(_("Give text."), field=field_name)
    if required and not value:
        raise BadInput(_("This field is required."), field=field_name)
    if len(value) > limit:
        raise BadInput(_("Write at most %(max)s characters.") % {"max": limit}, field=field_name)
    return value


def _branches(actor, branches) -> list[Branch]:
    chosen = []
    for branch in branches or ():
        if not isinstance(branch, Branch):
            branch = Branch.objects.filter(pk=branch).first() if str(branch).isdigit() else None
            if branch is None:
                raise BadInput(_("Choose valid branches."), field="branches")
        if branch not in chosen:
            chosen.append(branch)
    if not chosen:
        raise BadInput(_("Choose at least one branch."), field="branches")
    if not may_manage(actor, [b.pk for b in chosen]):
        raise BadInput(_("Choose only branches where you may run campaigns."), field="branches")
    return chosen


def _choices(values, allowed, field_name: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise BadInput(_("Give a list of values."), field=field_name)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise BadInput(
            _("Not a valid choice: %(values)s.") % {"values": ", ".join(unknown)}, field=field_name
        )
    return sorted(set(values))


def _clean(fields: dict) -> dict:
    """Check and normalise a campaign's fields (all of them, as create gets them)."""
    kind = fields.get("kind")
    if kind not in CampaignKind.values:
        raise BadInput(_("Choose a valid kind."), field="kind")
    cleaned = {
        "name": _text(fields.get("name"), "name", NAME_MAX, required=True),
        "purpose": _text(fields.get("purpose"), "purpose", PURPOSE_MAX),
        "kind": kind,
        "segments": _choices(fields.get("segments"), Segment.values, "segments"),
        "needs": _choices(fields.get("needs"), NEEDS, "needs"),
        "birthday_this_month": bool(fields.get("birthday_this_month")),
        "imported_only": bool(fields.get("imported_only")),
        "channel": "",
        "message_text": "",
        "reason_code": "",
        "script": "",
        "priority": Priority.NORMAL,
    }
    if kind == CampaignKind.MESSAGE:
        channel = fields.get("channel") or ""
        if channel not in CampaignChannel.values:
            raise BadInput(_("Choose how the message is sent."), field="channel")
        cleaned["channel"] = channel
        cleaned["message_text"] = _text(
            fields.get("message_text"), "message_text", MESSAGE_MAX, required=True
        )
    else:
        reason = _text(fields.get("reason_code"), "reason_code", 40, required=True)
        if not reason.replace("-", "").replace("_", "").isalnum() or not reason.isascii():
            raise BadInput(
                _("Use letters, digits, hyphens and underscores only."), field="reason_code"
            )
        cleaned["reason_code"] = reason
        cleaned["script"] = _text(fields.get("script"), "script", SCRIPT_MAX)
        priority = fields.get("priority", Priority.NORMAL)
        if isinstance(priority, bool) or priority not in Priority.values:
            raise BadInput(_("Choose a valid priority."), field="priority")
        cleaned["priority"] = priority
    return cleaned


FIELDS = (
    "name",
    "purpose",
    "kind",
    "segments",
    "needs",
    "birthday_this_month",
    "imported_only",
    "channel",
    "message_text",
    "reason_code",
    "script",
    "priority",
)


def campaign_create(*, actor, branches, **fields) -> Campaign:
    """A draft campaign. `fields`: name, kind (message/callback), purpose, segments (customer
    segments), needs (elderly/disability/pregnant), birthday_this_month, imported_only; a message
    campaign: channel (preferred/sms/email) and message_text (<= 500); a callback campaign:
    reason_code, script, priority. Every branch must be one where the actor runs campaigns."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise BadInput(_("Unknown field."), field=sorted(unknown)[0])
    cleaned = _clean(fields)
    chosen = _branches(actor, branches)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            **cleaned, created_by=actor if getattr(actor, "pk", None) else None
        )
        campaign.branches.set(chosen)
        _event("campaign_created", actor, campaign, kind=campaign.kind)
    return campaign


def campaign_update(*, actor, campaign, branches=None, **fields) -> Campaign:
    """Change a draft: the fields given replace the stored ones (the same checks as create)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise BadInput(_("Unknown field."), field=sorted(unknown)[0])
    with transaction.atomic():
        campaign = _lock(campaign)
        _check_manage(actor, campaign)
        if campaign.status not in EDITABLE:
            raise Conflict(_("Only a draft campaign can be changed."))
        merged = {name: getattr(campaign, name) for name in FIELDS}
        merged.update(fields)
        cleaned = _clean(merged)
        if branches is not None:
            campaign.branches.set(_branches(actor, branches))
        for name, value in cleaned.items():
            setattr(campaign, name, value)
        campaign.save(update_fields=list(cleaned))
        _event(
            "campaign_updated",
            actor,
            campaign,
            fields=sorted({*fields, *(["branches"] if branches is not None else [])}),
        )
    return campaign


# --- Imported lists.


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    # (row number, the id as given): no customer of the campaign's branches by that id.
    unknown: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "duplicates": self.duplicates,
            "unknown": [{"row": row, "id": value} for row, value in self.unknown],
        }


@dataclass
class ParsedCsv:
    rows: list[dict]
    errors: list[tuple[int, str]]  # (line, message)


def _row_key(row, number: int) -> tuple[str, str, str]:
    if not isinstance(row, dict):
        raise BadInput(_("Row %(row)s is not an object.") % {"row": number}, field="rows")
    customer_id = row.get("customer_id")
    core_id = row.get("core_banking_id")
    note = row.get("note") or ""
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        raise BadInput(
            _("Row %(row)s: the note is at most %(max)s characters.")
            % {"row": number, "max": NOTE_MAX},
            field="rows",
        )
    if customer_id not in (None, ""):
        if isinstance(customer_id, bool) or not str(customer_id).strip().isdigit():
            raise BadInput(
                _("Row %(row)s: customer_id is a whole number.") % {"row": number}, field="rows"
            )
        return "id", str(int(str(customer_id).strip())), note.strip()
    if isinstance(core_id, str) and core_id.strip():
        return "core", core_id.strip(), note.strip()
    raise BadInput(
        _("Row %(row)s: give customer_id or core_banking_id.") % {"row": number}, field="rows"
    )


def campaign_import_targets(*, actor, campaign, rows) -> ImportReport:
    """Add customers to a draft or scheduled campaign from rows {"customer_id" or
    "core_banking_id", "note"} (a row may carry its "line" for the report). A customer already
    in the campaign (or twice in the rows) is a duplicate; an id naming no customer of the
    campaign's branches is reported as unknown with its row number. A malformed row refuses the
    whole list (BadInput, field "rows")."""
    if not isinstance(rows, list | tuple):
        raise BadInput(_("Give a list of rows."), field="rows")
    if not rows:
        raise BadInput(_("The list is empty."), field="rows")
    if len(rows) > IMPORT_MAX_ROWS:
        raise BadInput(
            _("At most %(max)s rows at a time.") % {"max": IMPORT_MAX_ROWS}, field="rows"
        )
    keyed = []
    for index, row in enumerate(rows, start=1):
        number = row.get("line", index) if isinstance(row, dict) else index
        keyed.append((number, *_row_key(row, number)))
    with transaction.atomic():
        campaign = _lock(campaign)
        _check_manage(actor, campaign)
        if campaign.status not in IMPORTABLE:
            raise Conflict(_("Customers can be added only before the campaign starts."))
        branch_ids = list(campaign.branches.values_list("pk", flat=True))
        customers = Customer.objects.filter(home_branch_id__in=branch_ids)
        by_id = dict(
            customers.filter(
                pk__in=[int(v) for _n, kind, v, _t in keyed if kind == "id"]
            ).values_list("pk", "pk")
        )
        by_core = dict(
            customers.filter(
                core_banking_id__in=[v for _n, kind, v, _t in keyed if kind == "core"]
            ).values_list("core_banking_id", "pk")
        )
        present = set(campaign.targets.values_list("customer_id", flat=True))
        report = ImportReport()
        new = []
        for number, kind, value, note in keyed:
            customer_id = by_id.get(int(value)) if kind == "id" else by_core.get(value)
            if customer_id is None:
                report.unknown.append((number, value))
            elif customer_id in present:
                report.duplicates += 1
            else:
                present.add(customer_id)
                new.append(
                    CampaignTarget(
                        campaign=campaign,
                        customer_id=customer_id,
                        source=TargetSource.IMPORTED,
                        reason=note[:NOTE_MAX],
                    )
                )
        CampaignTarget.objects.bulk_create(new)
        report.added = len(new)
        _event(
            "campaign_targets_imported",
            actor,
            campaign,
            added=report.added,
            duplicates=report.duplicates,
            unknown=len(report.unknown),
        )
    return report


def parse_target_csv(file) -> ParsedCsv:
    """Read an uploaded CSV (UTF-8, header customer_id or core_banking_id, optional note) into
    rows for campaign_import_targets; errors per line. A file too large, not UTF-8, without the
    header or with too many rows is refused whole (BadInput, field "file")."""
    size = getattr(file, "size", None)
    raw = file.read(CSV_MAX_BYTES + 1)
    if (size is not None and size > CSV_MAX_BYTES) or len(raw) > CSV_MAX_BYTES:
        raise BadInput(
            _("The file is larger than %(max)s KB.") % {"max": CSV_MAX_BYTES // 1024}, field="file"
        )
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadInput(_("Save the file as UTF-8 CSV."), field="file") from None
    reader = csv.reader(io.StringIO(raw))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise BadInput(_("The file is empty."), field="file") from None
    id_column = next((h for h in ("customer_id", "core_banking_id") if h in header), None)
    if id_column is None:
        raise BadInput(
            _("The first line must name the column customer_id or core_banking_id."),
            field="file",
        )
    id_at = header.index(id_column)
    note_at = header.index("note") if "note" in header else None
    rows, errors = [], []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(rows) + len(errors) >= IMPORT_MAX_ROWS:
                raise BadInput(
                    _("At most %(max)s rows at a time.") % {"max": IMPORT_MAX_ROWS}, field="file"
                )
            value = cells[id_at].strip() if id_at < len(cells) else ""
            note = cells[note_at].strip() if note_at is not None and note_at < len(cells) else ""
            if not value:
                errors.append((line, _("The %(column)s is missing.") % {"column": id_column}))
            elif id_column == "customer_id" and not value.isdigit():
                errors.append((line, _("customer_id is a whole number.")))
            elif len(note) > NOTE_MAX:
                errors.append(
                    (line, _("The note is at most %(max)s characters.") % {"max": NOTE_MAX})
                )
            else:
                rows.append({id_column: value, "note": note, "line": line})
    except csv.Error as exc:
        errors.append((reader.line_num, _("Not valid CSV: %(error)s") % {"error": exc}))
    if not rows and not errors:
        raise BadInput(_("The file has no rows."), field="file")
    return ParsedCsv(rows=rows, errors=errors)


# --- Scheduling and cancelling.


def campaign_schedule(*, actor, campaign, scheduled_for, now=None) -> Campaign:
    """draft (or scheduled, to move the time) -> scheduled to start at `scheduled_for` (aware,
    not in the past). A campaign of the imported list only needs its list first."""
    now = now or timezone.now()
    if not isinstance(scheduled_for, dt.datetime) or timezone.is_naive(scheduled_for):
        raise BadInput(_("Give the start time with its time zone."), field="scheduled_for")
    if scheduled_for < now - dt.timedelta(minutes=5):
        raise BadInput(_("The start time has passed."), field="scheduled_for")
    with transaction.atomic():
        campaign = _lock(campaign)
        _check_manage(actor, campaign)
        if campaign.status not in IMPORTABLE:
            raise Conflict(_("Only a draft campaign can be scheduled."))
        if campaign.imported_only and not campaign.targets.exists():
            raise Conflict(_("Import the list of customers first."))
        campaign.status = CampaignStatus.SCHEDULED
        campaign.scheduled_for = scheduled_for
        campaign.save(update_fields=["status", "scheduled_for"])
        _event("campaign_scheduled", actor, campaign, scheduled_for=scheduled_for.isoformat())
    return campaign


def campaign_cancel(*, actor, campaign, now=None) -> Campaign:
    """A draft, scheduled or running campaign stops: nobody else is contacted (the targets still
    waiting stay so); messages queued and callbacks scheduled already stand."""
    with transaction.atomic():
        campaign = _lock(campaign)
        _check_manage(actor, campaign)
        if campaign.status not in CANCELLABLE:
            raise Conflict(
                _("This campaign is %(status)s: it cannot be cancelled.")
                % {"status": campaign.get_status_display()}
            )
        was = campaign.status
        campaign.status = CampaignStatus.CANCELLED
        campaign.finished_at = now or timezone.now()
        if campaign.scheduled_for is None:
            campaign.scheduled_for = campaign.finished_at
        campaign.save(update_fields=["status", "finished_at", "scheduled_for"])
        _event("campaign_cancelled", actor, campaign, was=was)
    return campaign


# --- Targeting.


def _local_month(branch: Branch, now: dt.datetime) -> int:
    return now.astimezone(branch.zone).month


def _filter_q(campaign: Campaign, branches: list[Branch], now: dt.datetime) -> Q:
    """The campaign's filters on customers (segments: any of; needs: any of; birthday this month
    in each branch's own time zone)."""
    q = Q()
    if campaign.segments:
        q &= Q(segment__in=campaign.segments)
    if campaign.needs:
        needs = Q()
        for need in campaign.needs:
            needs |= Q(**{NEEDS[need]: True})
        q &= needs
    if campaign.birthday_this_month:
        birthday = Q(pk__in=[])
        for branch in branches:
            birthday |= Q(home_branch=branch, date_of_birth__month=_local_month(branch, now))
        q &= birthday
    return q


def _why(campaign: Campaign, customer: Customer, now: dt.datetime) -> str:
    """Why the filters chose this customer, in words kept with the target."""
    parts = []
    if campaign.segments:
        parts.append(f"segment: {customer.segment}")
    if campaign.needs:
        flags = [n for n in campaign.needs if getattr(customer, NEEDS[n])]
        parts.append(f"needs: {', '.join(flags)}")
    if campaign.birthday_this_month and customer.date_of_birth:
        parts.append(f"birthday: {customer.date_of_birth:%m-%d}")
    if not parts:
        parts.append("customer of the branch")
    return "; ".join(parts)[:200]


@dataclass
class Candidate:
    customer: Customer
    source: str
    reason: str
    target: CampaignTarget | None = None
    excluded_reason: str = ""  # set when left out
    channel: str = ""  # the channel a message would go by

    @property
    def excluded_label(self) -> str:
        return ExclusionReason(self.excluded_reason).label if self.excluded_reason else ""


def _candidates(campaign: Campaign, now: dt.datetime) -> list[Candidate]:
    """Everyone the campaign would consider now: its imported list (with exclusions for those
    merged, moved away or, for an imported-only campaign, not matching the filters) and, unless
    imported-only, the customers its filters choose (merged records never)."""
    branches = list(campaign.branches.all())
    branch_ids = {b.pk for b in branches}
    q = _filter_q(campaign, branches, now)
    imported = list(
        campaign.targets.filter(source=TargetSource.IMPORTED).select_related("customer")
    )
    matching = set()
    if campaign.imported_only and imported:
        matching = set(
            Customer.objects.filter(q, pk__in=[t.customer_id for t in imported]).values_list(
                "pk", flat=True
            )
        )
    out = []
    for target in imported:
        customer = target.customer
        reason = ""
        if customer.merged_into_id is not None:
            reason = ExclusionReason.MERGED
        elif customer.home_branch_id not in branch_ids:
            reason = ExclusionReason.OTHER_BRANCH
        elif campaign.imported_only and customer.pk not in matching:
            reason = ExclusionReason.FILTERS
        out.append(Candidate(customer, TargetSource.IMPORTED, target.reason, target, reason))
    if not campaign.imported_only:
        taken = {t.customer_id for t in imported}
        chosen = (
            Customer.objects.filter(q, home_branch_id__in=branch_ids, merged_into__isnull=True)
            .exclude(pk__in=taken)
            .order_by("pk")
        )
        filtered = {t.customer_id: t for t in campaign.targets.filter(source=TargetSource.FILTERS)}
        for customer in chosen:
            out.append(
                Candidate(
                    customer,
                    TargetSource.FILTERS,
                    _why(campaign, customer, now),
                    filtered.get(customer.pk),
                )
            )
    return out


def message_channel(campaign: Campaign, customer: Customer) -> tuple[str, str]:
    """(channel, "") for a message to this customer, or ("", the ExclusionReason)."""
    if campaign.channel == CampaignChannel.PREFERRED:
        return reachable_by(customer)
    return reachable_by(customer, [campaign.channel])


def _screen(campaign: Campaign, candidates: list[Candidate], now: dt.datetime) -> None:
    """Set each remaining candidate's exclusion as the runner would decide it now (in bulk)."""
    ids = [c.customer.pk for c in candidates if not c.excluded_reason]
    opted = set(
        CareOptOut.objects.filter(
            customer_id__in=ids, scope__in=[OptOutScope.CAMPAIGNS, OptOutScope.ALL]
        ).values_list("customer_id", flat=True)
    )
    open_callback, capped = set(), set()
    if campaign.kind == CampaignKind.CALLBACK:
        open_callback = set(
            Callback.objects.filter(
                customer_id__in=ids,
                reason_code=campaign.reason_code,
                status__in=OPEN_CALLBACK_STATES,
            ).values_list("customer_id", flat=True)
        )
        since = now - dt.timedelta(days=settings.CARE_CONTACT_CAP_DAYS)
        capped = {
            row["customer_id"]
            for row in Callback.objects.filter(customer_id__in=ids, created_at__gte=since)
            .exclude(status=CallbackStatus.CANCELLED)
            .values("customer_id")
            .annotate(n=Count("id"))
            if row["n"] >= settings.CARE_CONTACT_CAP
        }
    for c in candidates:
        if c.excluded_reason:
            continue
        if c.customer.pk in opted:
            c.excluded_reason = ExclusionReason.OPTED_OUT
        elif campaign.kind == CampaignKind.MESSAGE:
            c.channel, c.excluded_reason = message_channel(campaign, c.customer)
        elif not c.customer.consent_phone:
            c.excluded_reason = ExclusionReason.NO_CONSENT
        elif c.customer.pk in open_callback:
            c.excluded_reason = ExclusionReason.OPEN_CALLBACK
        elif c.customer.pk in capped:
            c.excluded_reason = ExclusionReason.CONTACT_CAP


@dataclass
class DryRun:
    contacted: list[Candidate]
    left_out: list[Candidate]
    counts: dict  # {"contacted": n, "left_out": n, "by_reason": {reason: n}}


def campaign_dry_run(campaign: Campaign, *, now=None) -> DryRun:
    """Who would be contacted if the campaign ran now, and why; who would be left out, and why.
    Writes nothing. Once the campaign has started, its stored targets are shown as they are."""
    now = now or timezone.now()
    if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        candidates = _candidates(campaign, now)
        _screen(campaign, candidates, now)
    else:
        candidates = [
            Candidate(t.customer, t.source, t.reason, t, t.excluded_reason)
            for t in campaign.targets.select_related("customer").order_by("pk")
        ]
    contacted = [c for c in candidates if not c.excluded_reason]
    left_out = [c for c in candidates if c.excluded_reason]
    by_reason = {}
    for c in left_out:
        by_reason[c.excluded_reason] = by_reason.get(c.excluded_reason, 0) + 1
    return DryRun(
        contacted=contacted,
        left_out=left_out,
        counts={"contacted": len(contacted), "left_out": len(left_out), "by_reason": by_reason},
    )


# --- The runner.


@dataclass
class RunReport:
    started: int = 0
    contacted: int = 0
    excluded: int = 0
    finished: int = 0


def _materialise(campaign: Campaign, now: dt.datetime) -> int:
    """Store the campaign's targets once, as it starts (under its row lock): the filters'
    customers join the imported ones; imported ones merged, moved away or not matching an
    imported-only campaign's filters are left out now."""
    candidates = _candidates(campaign, now)
    new, left_out = [], []
    for c in candidates:
        if c.target is None:
            new.append(
                CampaignTarget(
                    campaign=campaign, customer=c.customer, source=c.source, reason=c.reason
                )
            )
        elif c.excluded_reason:
            c.target.status = TargetStatus.EXCLUDED
            c.target.excluded_reason = c.excluded_reason
            left_out.append(c.target)
    CampaignTarget.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    CampaignTarget.objects.bulk_update(left_out, ["status", "excluded_reason"], batch_size=1000)
    return len(candidates)


def _start_due(now: dt.datetime, report: RunReport) -> None:
    while True:
        with transaction.atomic():
            campaign = (
                Campaign.objects.select_for_update(skip_locked=True)
                .filter(status=CampaignStatus.SCHEDULED, scheduled_for__lte=now)
                .order_by("scheduled_for", "pk")
                .first()
            )
            if campaign is None:
                return
            campaign.status = CampaignStatus.RUNNING
            campaign.started_at = now
            campaign.save(update_fields=["status", "started_at"])
            targets = _materialise(campaign, now)
            _event("campaign_started", None, campaign, targets=targets)
            report.started += 1


def opt_out_url(target: CampaignTarget) -> str:
    """The customer's opt-out link, absolute with RECEPTION_PUBLIC_BASE_URL (a worker has no
    request to take a host from); the path alone when that is not set."""
    base = settings.RECEPTION_PUBLIC_BASE_URL.rstrip("/")
    return base + reverse("care_campaign:opt_out", args=[target.public_token])


def _exclude(target: CampaignTarget, reason: str) -> None:
    target.status = TargetStatus.EXCLUDED
    target.excluded_reason = reason
    target.save(update_fields=["status", "excluded_reason"])


def _why_refused(campaign: Campaign, customer: Customer) -> str:
    """callback_create said no: which guard (it checks them in this order)."""
    if not customer.consent_phone:
        return ExclusionReason.NO_CONSENT
    if opted_out(customer, OptOutScope.ALL):
        return ExclusionReason.OPTED_OUT
    if Callback.objects.filter(
        customer=customer, reason_code=campaign.reason_code, status__in=OPEN_CALLBACK_STATES
    ).exists():
        return ExclusionReason.OPEN_CALLBACK
    return ExclusionReason.CONTACT_CAP


def _contact(campaign: Campaign, target: CampaignTarget, now: dt.datetime) -> bool:
    """Contact one pending target (its row locked); True when contacted, False when left out."""
    customer = target.customer
    branch = customer.home_branch
    if customer.merged_into_id is not None:
        _exclude(target, ExclusionReason.MERGED)
        return False
    if opted_out(customer, OptOutScope.CAMPAIGNS):
        _exclude(target, ExclusionReason.OPTED_OUT)
        return False
    if campaign.kind == CampaignKind.MESSAGE:
        channel, reason = message_channel(campaign, customer)
        if reason:
            _exclude(target, reason)
            return False
        target.notification = notification_send(
            customer=customer,
            channel=channel,
            template=MESSAGE,
            context={"text": campaign.message_text, "opt_out_url": opt_out_url(target)},
            dedupe_key=f"care.campaign-target:{target.pk}",
            branch=branch,
        )
    else:
        start = campaign.started_at or now
        target.callback = callback_create(
            actor=None,
            customer=customer,
            branch=branch,
            reason_code=campaign.reason_code,
            due_at=callable_from(branch, max(start, now)),
            priority=campaign.priority,
            script=campaign.script,
            source_ref=f"care.campaign:{campaign.pk}",
        )
        if target.callback is None:
            _exclude(target, _why_refused(campaign, customer))
            return False
    target.status = TargetStatus.CONTACTED
    target.contacted_at = now
    target.save(update_fields=["status", "notification", "callback", "contacted_at"])
    return True


def _run_batch(campaign_id: int, now: dt.datetime, report: RunReport) -> bool:
    """Contact one batch of the campaign's pending targets; False when none was free."""
    with transaction.atomic():
        campaign = Campaign.objects.get(pk=campaign_id)
        if campaign.status != CampaignStatus.RUNNING:
            return False
        # Who else locks these rows: another worker's batch (skipped, not waited for).
        targets = list(
            CampaignTarget.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(campaign_id=campaign_id, status=TargetStatus.PENDING)
            .select_related("customer__home_branch")
            .order_by("customer_id")[: settings.CARE_CAMPAIGN_BATCH]
        )
        for target in targets:
            if _contact(campaign, target, now):
                report.contacted += 1
            else:
                report.excluded += 1
    return bool(targets)


def _finish(campaign_id: int, now: dt.datetime, report: RunReport) -> None:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != CampaignStatus.RUNNING:
            return
        if campaign.targets.filter(status=TargetStatus.PENDING).exists():
            return  # another worker holds a batch; it finishes the campaign
        campaign.status = CampaignStatus.DONE
        campaign.finished_at = now
        campaign.save(update_fields=["status", "finished_at"])
        _event("campaign_finished", None, campaign, **campaign_status(campaign, flat=True))
        report.finished += 1


def campaigns_run(now=None, *, budget_seconds: float = BUDGET_SECONDS) -> RunReport:
    """Start the campaigns due, contact the pending targets of running ones in batches, finish
    those with none pending. Safe to run twice at once; a rerun resumes where one stopped. No
    batch starts after `budget_seconds` (the next run goes on)."""
    now = now or timezone.now()
    stop_at = time.monotonic() + budget_seconds
    report = RunReport()
    _start_due(now, report)
    running = list(
        Campaign.objects.filter(status=CampaignStatus.RUNNING)
        .order_by("started_at", "pk")
        .values_list("pk", flat=True)
    )
    for campaign_id in running:
        while time.monotonic() < stop_at and _run_batch(campaign_id, now, report):
            pass
        _finish(campaign_id, now, report)
    return report


# --- Status.


def campaign_status(campaign: Campaign, *, flat: bool = False) -> dict:
    """The campaign's counts in one query: targets, pending, excluded (by reason), contacted;
    messages sent, delivered (receipt), failed; callbacks reached (an attempt reached the
    customer, or done) and their outcomes (done, unreachable, cancelled, open)."""
    reached = Exists(
        CallbackAttempt.objects.filter(
            callback_id=OuterRef("callback_id"), result=AttemptResult.REACHED
        )
    )
    counts = {
        "targets": Count("pk"),
        "pending": Count("pk", filter=Q(status=TargetStatus.PENDING)),
        "excluded": Count("pk", filter=Q(status=TargetStatus.EXCLUDED)),
        "contacted": Count("pk", filter=Q(status=TargetStatus.CONTACTED)),
        "sent": Count("pk", filter=Q(notification__status=NotificationStatus.SENT)),
        "delivered": Count("pk", filter=Q(notification__delivered_at__isnull=False)),
        "failed": Count(
            "pk",
            filter=Q(notification__status=NotificationStatus.FAILED)
            | Q(notification__undelivered_reason__gt=""),
        ),
        "reached": Count(
            "pk", filter=Q(callback__status=CallbackStatus.DONE) | Q(callback__isnull=False, r=True)
        ),
        "done": Count("pk", filter=Q(callback__status=CallbackStatus.DONE)),
        "unreachable": Count("pk", filter=Q(callback__status=CallbackStatus.UNREACHABLE)),
        "cancelled": Count("pk", filter=Q(callback__status=CallbackStatus.CANCELLED)),
        "open": Count("pk", filter=Q(callback__status__in=OPEN_CALLBACK_STATES)),
    }
    for reason in ExclusionReason.values:
        counts[f"excluded_{reason}"] = Count("pk", filter=Q(excluded_reason=reason))
    row = (
        CampaignTarget.objects.filter(campaign_id=campaign.pk)
        .annotate(r=reached)
        .aggregate(**counts)
    )
    if flat:
        return row
    by_reason = {r: row.pop(f"excluded_{r}") for r in ExclusionReason.values}
    return {
        "targets": row["targets"],
        "pending": row["pending"],
        "excluded": row["excluded"],
        "excluded_by_reason": {r: n for r, n in by_reason.items() if n},
        "contacted": row["contacted"],
        "sent": row["sent"],
        "delivered": row["delivered"],
        "failed": row["failed"],
        "reached": row["reached"],
        "outcomes": {k: row[k] for k in ("done", "unreachable", "cancelled", "open")},
    }
