"""Writes for consultations: start (from a ticket at a counter, or by phone, chat or video),
update what was asked and answered, close with an outcome, refer to another advisor.

Every write locks the consultation row, checks its guard under the lock and records a
`consultation.*` event in the same transaction; the events are the consultation's history. A close
hands the customer on (consultation/handoffs.py) after it has committed, so a failing hand-off
never undoes it.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankservice.branches.models import Role, StaffMembership
from bankservice.branches.scope import can_act_at
from bankservice.core.errors import BadInput, Conflict
from bankservice.customers.validators import normalize_phone
from bankservice.events.services import record
from consultation.kb.services import articles_record_use
from reception.selectors import ticket_list
from reception.services import SERVE_PERM

from .models import Channel, Consultation, ConsultationStatus, HandoffStatus, Outcome

VIEW_PERM = "consultation.view_consultation"
START_PERM = "consultation.add_consultation"
CHANGE_PERM = "consultation.change_consultation"
# Only a ticket being served becomes a consultation: the customer is at the counter.
SERVING = "serving"
REMOTE_CHANNELS = (Channel.PHONE, Channel.CHAT, Channel.VIDEO)
# Outcomes whose next step another stage creates (consultation/handoffs.py).
HANDOFF_OUTCOMES = (Outcome.PROCESSING, Outcome.FOLLOW_UP, Outcome.COMPLAINT)
UPDATABLE_FIELDS = ("question", "notes", "topics", "products", "articles")


STALE = gettext_lazy(
    "Someone else changed this consultation meanwhile; reload it and make your change again."
)


class NotOpen(Conflict):
    """The consultation is closed already: it changes no more."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _require_staff(actor) -> None:
    # The advisor is a person: API keys read consultations but do not hold them.
    if actor is None or getattr(actor, "is_api_client", False) or not actor.is_authenticated:
        raise PermissionDenied(_("Consultations are held by a member of staff."))


def _check(actor, perm: str, branch_id: int) -> None:
    _require_staff(actor)
    if not can_act_at(actor, perm, branch_id):
        raise PermissionDenied(_("Your role does not allow this at this branch."))


def holds_role(user, role: str, branch_id: int) -> bool:
    """Whether the user holds the role at this branch (a membership there, not a region's)."""
    return StaffMembership.objects.filter(user=user, branch_id=branch_id, role__name=role).exists()


def may_handle(actor, consultation: Consultation) -> bool:
    """The advisor holding it, or a branch manager of its branch, changes and closes it."""
    if actor.pk == consultation.advisor_id or actor.is_superuser:
        return True
    return holds_role(actor, Role.BRANCH_MANAGER, consultation.branch_id)


def _event(type_: str, actor, consultation: Consultation, **payload) -> None:
    record(
        type=f"consultation.{type_}",
        actor=actor,
        branch=consultation.branch,
        customer=consultation.customer,
        subject=consultation,
        payload={"consultation": consultation.pk, "channel": consultation.channel, **payload},
    )


def consultation_start(
    *,
    actor,
    channel: str = Channel.COUNTER,
    ticket=None,
    branch=None,
    customer=None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    question: str = "",
    now: dt.datetime | None = None,
) -> Consultation:
    """Start a consultation held by `actor`.

    From a ticket (an int or a ticket) being served at the actor's counter: the branch, visit and
    customer are the ticket's, the channel the counter. Standalone (phone, chat, video): a
    branch, and a customer record or a contact.
    """
    now = _now(now)
    _require_staff(actor)
    with transaction.atomic():
        if ticket is not None:
            ticket = _lock_serving_ticket(actor, ticket)
            branch, visit, channel = ticket.branch, ticket.visit, Channel.COUNTER
            customer, contact_phone = visit.customer, visit.contact_phone
        else:
            visit = None
            if channel not in REMOTE_CHANNELS:
                raise BadInput(
                    _("At the counter, start the consultation from the ticket being served."),
                    field="channel",
                )
            if branch is None:
                raise BadInput(_("Choose the branch."), field="branch")
            contact_name, contact_phone = contact_name.strip(), contact_phone.strip()
            contact_email = contact_email.strip()
            if customer is None and not (contact_name or contact_phone or contact_email):
                raise BadInput(
                    _("Choose the customer's record, or give a contact name or number."),
                    field="customer",
                )
            if contact_phone:
                try:
                    contact_phone = normalize_phone(contact_phone)
                except ValidationError as exc:
                    raise BadInput(" ".join(exc.messages), field="contact_phone") from exc
        _check(actor, START_PERM, branch.pk)
        if customer is not None:
            customer = customer.merged_into or customer
            contact_name = contact_email = ""
        consultation = Consultation.objects.create(
            branch=branch,
            customer=customer,
            contact_name=contact_name,
            contact_phone="" if customer is not None else contact_phone,
            contact_email=contact_email,
            advisor=actor,
            channel=channel,
            visit=visit,
            ticket=ticket,
            question=question.strip(),
            started_at=now,
        )
        _event("started", actor, consultation, ticket=ticket.number if ticket else "")
    return consultation


def _lock_serving_ticket(actor, ticket):
    """The ticket, locked, being served at a counter the actor is signed in to; one consultation
    per ticket and advisor is open at a time (the lock keeps two clicks from starting two)."""
    ticket_id = getattr(ticket, "pk", ticket)
    locked = (
        ticket_list(principal=actor, perm=SERVE_PERM)
        .select_for_update(of=("self",))
        .filter(pk=ticket_id)
        .first()
    )
    if locked is None:
        raise BadInput(_("No such ticket at your branches."), field="ticket")
    if locked.status != SERVING or locked.counter is None or locked.counter.staff_id != actor.pk:
        raise Conflict(_("Start a consultation from the ticket you are serving at your counter."))
    if Consultation.objects.filter(
        ticket=locked, advisor=actor, status=ConsultationStatus.OPEN
    ).exists():
        raise Conflict(_("You already have an open consultation for this ticket."))
    return locked


def _lock(consultation: Consultation | int) -> Consultation:
    # Locked by every write here and by the hand-off runner (handoffs.py).
    consultation_id = getattr(consultation, "pk", consultation)
    return (
        Consultation.objects.select_for_update(of=("self",))
        .select_related("branch", "customer", "advisor")
        .get(pk=consultation_id)
    )


def lock_to_handle(actor, consultation) -> Consultation:
    """The consultation locked, if the actor may act on it: staff with the change permission at
    its branch who hold it or manage the branch (403 otherwise)."""
    _require_staff(actor)
    locked = _lock(consultation)
    _check(actor, CHANGE_PERM, locked.branch_id)
    if not may_handle(actor, locked):
        raise PermissionDenied(
            _("Only the advisor holding this consultation or a branch manager may act on it.")
        )
    return locked


def _lock_to_change(actor, consultation) -> Consultation:
    locked = lock_to_handle(actor, consultation)
    if locked.status != ConsultationStatus.OPEN:
        raise NotOpen(_("This consultation is closed already."))
    return locked


def _codes(queryset) -> list[str]:
    return sorted(queryset.values_list("code", flat=True))


def consultation_update(
    *, actor, consultation: Consultation | int, data: dict, version: int | None = None
) -> Consultation:
    """Change what was asked and answered: `data` holds any of question, notes (text) and
    topics, products, articles (lists of objects, replacing the current ones). Articles newly
    attached count as used; only published, unarchived articles may be attached. `version`,
    when given, is the version the editor started from: a consultation changed since is
    refused (Conflict on "version") rather than overwritten with the older values."""
    unknown = set(data) - set(UPDATABLE_FIELDS)
    if unknown:
        raise BadInput(_("This cannot be changed here."), field=sorted(unknown)[0])
    with transaction.atomic():
        consultation = _lock_to_change(actor, consultation)
        if version is not None and version != consultation.version:
            raise Conflict(STALE, field="version")
        changed = []
        for field in ("question", "notes"):
            if field in data and data[field].strip() != getattr(consultation, field):
                setattr(consultation, field, data[field].strip())
                changed.append(field)
        text_changed = list(changed)
        for field in ("topics", "products"):
            if field in data:
                new = {obj.pk for obj in data[field]}
                manager = getattr(consultation, field)
                if new != set(manager.values_list("pk", flat=True)):
                    manager.set(new)
                    changed.append(field)
        attached = []
        if "articles" in data:
            unusable = [a.pk for a in data["articles"] if not a.published_id or a.is_archived]
            if unusable:
                raise BadInput(_("Only published articles can be attached."), field="articles")
            new = {a.pk for a in data["articles"]}
            current = set(consultation.articles.values_list("pk", flat=True))
            if new != current:
                consultation.articles.set(new)
                changed.append("articles")
                attached = sorted(new - current)
                if attached:
                    articles_record_use(article_ids=attached)
        if changed:
            consultation.version += 1
            consultation.save(update_fields=[*text_changed, "version"])
            _event(
                "updated",
                actor,
                consultation,
                fields=changed,
                topics=_codes(consultation.topics.all()),
                products=_codes(consultation.products.all()),
                articles_attached=attached,
            )
    return consultation


def advisors_at(branch_id: int):
    """Users holding the advisor role at the branch, to refer a customer to."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__branch_id=branch_id,
            memberships__role__name=Role.ADVISOR,
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def consultation_close(
    *,
    actor,
    consultation: Consultation | int,
    outcome: str,
    outcome_note: str = "",
    referred_to=None,
    now: dt.datetime | None = None,
) -> Consultation:
    """Close with an outcome. "advisor" refers the customer to another advisor of the branch: a
    new open consultation for them with the question carried over, on the same visit and ticket.
    Processing, follow-up and complaint outcomes are handed to their stage after the commit
    (pending until that stage is installed; see consultation/handoffs.py)."""
    from .handoffs import handoff_run  # handoffs.py builds on this module

    now = _now(now)
    if outcome not in Outcome.values:
        raise BadInput(_("Choose the outcome."), field="outcome")
    with transaction.atomic():
        consultation = _lock_to_change(actor, consultation)
        if outcome == Outcome.ADVISOR:
            if referred_to is None:
                raise BadInput(
                    _("Choose the advisor to refer the customer to."), field="referred_to"
                )
            if referred_to.pk == consultation.advisor_id or not holds_role(
                referred_to, Role.ADVISOR, consultation.branch_id
            ):
                raise BadInput(_("Choose another advisor of this branch."), field="referred_to")
        else:
            referred_to = None
        consultation.status = ConsultationStatus.CLOSED
        consultation.outcome = outcome
        consultation.outcome_note = outcome_note.strip()
        consultation.referred_to = referred_to
        consultation.ended_at = max(now, consultation.started_at)
        consultation.handoff_status = (
            HandoffStatus.PENDING if outcome in HANDOFF_OUTCOMES else HandoffStatus.NONE
        )
        if referred_to is not None:
            successor = _refer(actor, consultation, referred_to, now=consultation.ended_at)
            consultation.handoff_status = HandoffStatus.DONE
            consultation.handoff_ref = f"consultation.consultation:{successor.pk}"
        consultation.save(
            update_fields=[
                "status",
                "outcome",
                "outcome_note",
                "referred_to",
                "ended_at",
                "handoff_status",
                "handoff_ref",
            ]
        )
        # What later stages need to react to the outcome (care reacts to "follow_up").
        _event(
            "closed",
            actor,
            consultation,
            outcome=outcome,
            customer=consultation.customer_id,
            advisor=consultation.advisor_id,
            topics=_codes(consultation.topics.all()),
            products=_codes(consultation.products.all()),
            ticket=consultation.ticket_id,
            visit=consultation.visit_id,
            referred_to=consultation.referred_to_id,
            handoff_status=consultation.handoff_status,
            minutes=round((consultation.ended_at - consultation.started_at).total_seconds() / 60),
        )
    if consultation.handoff_status == HandoffStatus.PENDING:
        handoff_run(consultation_id=consultation.pk, actor=actor)
        consultation.refresh_from_db(fields=["handoff_status", "handoff_ref", "handoff_error"])
    return consultation


def _refer(actor, consultation: Consultation, advisor, *, now) -> Consultation:
    """The next consultation, for `advisor`, on the same journey (inside the close)."""
    successor = Consultation.objects.create(
        branch=consultation.branch,
        customer=consultation.customer,
        contact_name=consultation.contact_name,
        contact_phone=consultation.contact_phone,
        contact_email=consultation.contact_email,
        advisor=advisor,
        channel=consultation.channel,
        visit_id=consultation.visit_id,
        ticket_id=consultation.ticket_id,
        question=consultation.question,
        started_at=now,
    )
    successor.topics.set(consultation.topics.all())
    successor.products.set(consultation.products.all())
    _event(
        "started",
        actor,
        successor,
        ticket=consultation.ticket.number if consultation.ticket_id else "",
        referred_from=consultation.pk,
        advisor=advisor.pk,
    )
    return successor
