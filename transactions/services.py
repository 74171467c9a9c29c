"""Writes for service requests: the draft, its documents, submission, the approval levels, the
hand-off to core banking and its result; bundles.

Every transition locks the request (`SELECT … FOR UPDATE`), checks the source state and the
actor under the lock, records a `transactions.*` event and, where the customer cares, queues an
SMS in the customer's language — all in one transaction, so a change, its history and its
message commit together or not at all. The flow is described in docs/transactions.md.
"""

import logging
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bankservice.branches.models import Role, StaffMembership
from bankservice.branches.scope import can_act_at
from bankservice.core.errors import BadInput, Conflict, DomainError
from bankservice.core.uploads import checked_upload
from bankservice.events.services import record
from bankservice.notify.services import notification_send
from bankservice.sla.models import DeadlineState
from bankservice.sla.selectors import deadlines_for, open_deadline_for
from bankservice.sla.services import (
    deadline_cancel,
    deadline_meet,
    deadline_pause,
    deadline_resume,
    deadline_start,
)

from . import eforms
from .models import (
    EDITABLE_STATES,
    Approval,
    BundleRun,
    Decision,
    RequestDocument,
    RequestStatus,
    RequestType,
    RequestTypeVersion,
    ServiceRequest,
)

VIEW_PERM = "transactions.view_servicerequest"
MAKE_PERM = "transactions.add_servicerequest"
EDIT_PERM = "transactions.change_servicerequest"
APPROVE_PERM = "transactions.approve_servicerequest"
PROCESS_PERM = "transactions.process_servicerequest"
# Held by no staff role: the API scope `transactions:core_banking` (see api_scope_for_perm).
CORE_BANKING_PERM = "transactions.core_banking"

# Deadline kinds (transactions/deadlines.py handles them): the bank's decision runs from
# submission to approval or rejection on the version's policy; core banking's execution from
# sending to its result on CORE_POLICY.
DECISION_KIND = "transactions.decision"
CORE_KIND = "transactions.core"
CORE_POLICY = "transactions.core"

STATUS_MESSAGE = "transactions.status_changed"
# The customer hears of these changes (a draft, a level approved or the send say nothing).
CUSTOMER_STATES = (
    RequestStatus.SUBMITTED,
    RequestStatus.RETURNED,
    RequestStatus.APPROVED,
    RequestStatus.EXECUTED,
    RequestStatus.FAILED,
    RequestStatus.REJECTED,
    RequestStatus.CANCELLED,
)
CANCELLABLE_STATES = (RequestStatus.DRAFT, RequestStatus.SUBMITTED, RequestStatus.RETURNED)
CORE_RESULTS = (RequestStatus.EXECUTED, RequestStatus.FAILED)
REASON_MAX = 500
# A consultation "referred to processing" about a product of this family becomes a draft of this
# request type (codes of transactions/demo.py; a family not listed needs the request by hand).
PRODUCT_REQUEST_TYPES = {
    "deposit": "open_account",
    "card": "activate_card",
    "digital": "mobile_banking",
    "loan": "personal_loan",
}

logger = logging.getLogger(__name__)


class InvalidTransition(Conflict):
    """The request is not in a state that allows this step (HTTP 409)."""

    def __init__(self, message: str, *, current: str):
        super().__init__(message)
        self.current = current

    def as_dict(self) -> dict:
        return {"detail": self.message, "status": self.current}


class FourEyes(DomainError):
    """The maker deciding their own request, or one person deciding two levels (HTTP 403)."""

    status_code = 403


# --- Helpers.


def _check(actor, perm: str, branch_id: int) -> None:
    if not can_act_at(actor, perm, branch_id):
        raise PermissionDenied(_("Your role does not allow this at this branch."))


def _require_maker(actor, request: ServiceRequest) -> None:
    _check(actor, EDIT_PERM, request.branch_id)
    if request.maker_id != actor.pk:
        raise PermissionDenied(_("Only the member of staff who made this request may change it."))


def _require(request: ServiceRequest, *states, action: str) -> None:
    if request.status not in states:
        raise InvalidTransition(
            _("Request %(reference)s is %(status)s: it cannot be %(action)s.")
            % {
                "reference": request.reference,
                "status": request.get_status_display(),
                "action": action,
            },
            current=request.status,
        )


def _reason(reason: str, *, required: bool = True) -> str:
    reason = " ".join((reason or "").split())
    if required and not reason:
        raise BadInput(_("Give a reason."), field="reason")
    if len(reason) > REASON_MAX:
        raise BadInput(_("At most %(limit)d characters.") % {"limit": REASON_MAX}, field="reason")
    return reason


def _lock(request: ServiceRequest | int) -> ServiceRequest:
    """The request, locked for one transition, with what the transitions read."""
    pk = request if isinstance(request, int) else request.pk
    try:
        return (
            ServiceRequest.objects.select_for_update(of=("self",))
            .select_related("branch", "customer", "request_type", "version", "maker")
            .get(pk=pk)
        )
    except ServiceRequest.DoesNotExist:
        raise Http404(_("No such request.")) from None


def _event(type_: str, actor, request: ServiceRequest, **payload) -> None:
    # Ids, codes and states only: the form data holds personal data and stays on the request.
    record(
        type=f"transactions.{type_}",
        actor=actor,
        branch=request.branch,
        customer=request.customer,
        subject=request,
        payload={
            "reference": request.reference,
            "request_type": request.request_type.code,
            "status": request.status,
            "round": request.round,
            **payload,
        },
    )


def progress_url(request: ServiceRequest) -> str:
    """The customer's progress link, absolute with RECEPTION_PUBLIC_BASE_URL (the public host;
    a worker has no request to take a host from); empty when that is not set."""
    base = settings.RECEPTION_PUBLIC_BASE_URL.rstrip("/")
    if not base:
        return ""
    return base + reverse("transactions_public:progress", args=[request.public_token])


def _tell_customer(actor, request: ServiceRequest) -> None:
    """An SMS on a status change the customer cares about, in the customer's language (notify
    reads it from the customer at send time); once per status and round."""
    if request.status not in CUSTOMER_STATES:
        return
    notification_send(
        customer=request.customer,
        channel="sms",
        template=STATUS_MESSAGE,
        context={
            "status": request.status,
            "request_reference": request.reference,
            "request_type_zh": request.request_type.name_zh,
            "request_type_en": request.request_type.name_en,
            "reason": request.status_reason,
            "progress_url": progress_url(request),
        },
        dedupe_key=f"transactions:{request.pk}:{request.round}:{request.status}:sms",
        actor=actor,
        branch=request.branch,
    )


def _set_due(request: ServiceRequest, deadline) -> None:
    # Worklists order by due_at: a copy of the open deadline's, kept on the request for one index.
    request.due_at = deadline.due_at if deadline is not None else None


def _finish_deadline(request: ServiceRequest, kind: str, actor, *, met: bool) -> None:
    """Meet the step's deadline (a breached one records the late meet, for on-time reports),
    or cancel it when the request ends without the step done."""
    deadline = (
        deadlines_for(request, kind=kind)
        .filter(met_at__isnull=True, state__in=(DeadlineState.OPEN, DeadlineState.BREACHED))
        .last()
    )
    if deadline is not None and (met or deadline.state == DeadlineState.OPEN):
        (deadline_meet if met else deadline_cancel)(deadline=deadline, actor=actor)
    request.due_at = None


def _save(request: ServiceRequest, *fields) -> None:
    request.save(update_fields=[*fields, "updated_at"])


# --- Drafts.


def request_create(
    *,
    actor,
    customer,
    request_type,
    branch,
    data: dict | None = None,
    ticket=None,
    consultation=None,
    bundle_run: BundleRun | None = None,
) -> ServiceRequest:
    """A draft of the request type's current version for a customer, prefilled from the
    customer's record (values given in `data` win). Checked as a draft (types and formats)."""
    _check(actor, MAKE_PERM, branch.pk)
    if customer.merged_into_id is not None:
        customer = customer.merged_into
    if not request_type.is_active:
        raise BadInput(_("This request type is not offered now."), field="request_type")
    version = RequestTypeVersion.objects.filter(request_type=request_type, is_current=True).first()
    if version is None:
        raise BadInput(_("This request type has no published form."), field="request_type")
    merged = {**eforms.prefill(version, customer), **(data or {})}
    cleaned = eforms.validate(version, merged, partial=True)
    amount, currency = eforms.amount_of(version, cleaned)
    with transaction.atomic():
        request = ServiceRequest.objects.create(
            # A unique placeholder until the id is known: the reference is made from the id (no
            # counter to contend for; unique across branches and days by construction).
            reference=f"tmp-{secrets.token_hex(8)}",
            branch=branch,
            customer=customer,
            request_type=request_type,
            version=version,
            bundle_run=bundle_run,
            data=cleaned,
            amount=amount,
            currency=currency or "",
            maker=actor,
            ticket=ticket,
            consultation=consultation,
            language=customer.preferred_language,
        )
        day = timezone.localdate(request.created_at, branch.zone)
        request.reference = f"SR{day:%y%m%d}{request.pk:06d}"
        request.save(update_fields=["reference"])
        _event(
            "request_created",
            actor,
            request,
            version=version.number,
            ticket=ticket.pk if ticket else None,
            consultation=consultation.pk if consultation else None,
            bundle_run=bundle_run.pk if bundle_run else None,
        )
    return request


def request_update(*, actor, request: ServiceRequest, data: dict) -> ServiceRequest:
    """Change a draft's (or a returned request's) data; checked as a draft. The fields given
    replace those stored; a field given as None is cleared."""
    with transaction.atomic():
        request = _lock(request)
        _require_maker(actor, request)
        _require(request, *EDITABLE_STATES, action=_("changed"))
        merged = {**request.data, **data}
        merged = {key: value for key, value in merged.items() if value is not None}
        request.data = eforms.validate(request.version, merged, partial=True)
        request.amount, currency = eforms.amount_of(request.version, request.data)
        request.currency = currency or ""
        _save(request, "data", "amount", "currency")
        _event("request_updated", actor, request, fields=sorted(data))
    return request


def _documents_missing(request: ServiceRequest) -> list[dict]:
    present = set(
        request.documents.filter(is_removed=False).values_list("doc_type", flat=True).distinct()
    )
    return [
        doc
        for doc in eforms.documents_required(request.version, request.data)
        if doc["code"] not in present
    ]


def request_submit(*, actor, request: ServiceRequest) -> ServiceRequest:
    """Submit a draft, or resubmit a returned request (a new round: earlier decisions stay in the
    history). Fully validated, required documents present; the approval levels are fixed from
    the rules now. No levels: approved at once and handed to core banking. The decision deadline
    starts at the first submission and runs on from where it stopped at a resubmission."""
    with transaction.atomic():
        request = _lock(request)
        _require_maker(actor, request)
        _require(request, *EDITABLE_STATES, action=_("submitted"))
        version = request.version
        request.data = eforms.validate(version, request.data)
        missing = _documents_missing(request)
        if missing:
            names = ", ".join(eforms.document_label(doc) for doc in missing)
            raise BadInput(
                _("Attach these documents first: %(names)s.") % {"names": names},
                field="documents",
            )
        request.amount, currency = eforms.amount_of(version, request.data)
        request.currency = currency or ""
        request.approval_levels = eforms.approval_levels(
            version, data=request.data, customer=request.customer, amount=request.amount
        )
        resubmitted = request.status == RequestStatus.RETURNED
        now = timezone.now()
        request.round += 1
        request.submitted_at = now
        request.status_reason = ""
        if resubmitted:
            # Paused at the return; or breached already (overdue when returned): its past due
            # time keeps the request at the top of the worklists.
            deadline = deadlines_for(request, kind=DECISION_KIND).last()
            if deadline is not None and deadline.paused_at is not None:
                deadline = deadline_resume(deadline=deadline, actor=actor)
        else:
            deadline = deadline_start(
                subject=request,
                kind=DECISION_KIND,
                policy=version.sla_policy,
                branch=request.branch,
                actor=actor,
                started_at=now,
            )
        _set_due(request, deadline)
        if request.approval_levels:
            request.status = RequestStatus.SUBMITTED
            request.current_level = 1
        else:
            request.status = RequestStatus.APPROVED
            request.current_level = 0
            request.decided_at = now
        _save(
            request,
            "data",
            "amount",
            "currency",
            "approval_levels",
            "round",
            "submitted_at",
            "status_reason",
            "status",
            "current_level",
            "decided_at",
            "due_at",
        )
        _event(
            "request_resubmitted" if resubmitted else "request_submitted",
            actor,
            request,
            levels=request.approval_levels,
            amount=str(request.amount) if request.amount is not None else None,
            currency=request.currency,
        )
        if request.status == RequestStatus.APPROVED:
            _approved(actor, request)
        else:
            _tell_customer(actor, request)
    return request


# --- Decisions.


def holds_role_for(actor, role: str, branch) -> bool:
    """Whether the actor holds `role` at the branch, over its region, or across the bank."""
    where = Q(branch=branch) | Q(branch__isnull=True, region__isnull=True)
    if branch.region_id:
        where |= Q(region_id=branch.region_id)
    return StaffMembership.objects.filter(where, user=actor, role__name=role).exists()


def _lock_for_decision(actor, request: ServiceRequest, level: int | None, action: str):
    """Lock a request waiting for a decision and check the actor may decide its current level.

    `level`: the level the actor saw (default: the one on the object the caller holds). If
    another approver decided it meanwhile, this is a 409, never a decision on the next level
    the actor did not look at.
    """
    seen_level = level if level is not None else request.current_level
    if getattr(actor, "is_api_client", False):
        raise PermissionDenied(_("Approvals are decided by members of staff."))
    locked = _lock(request)
    _check(actor, APPROVE_PERM, locked.branch_id)
    _require(locked, RequestStatus.SUBMITTED, action=action)
    if seen_level and seen_level != locked.current_level:
        raise InvalidTransition(
            _("Level %(level)d of request %(reference)s has been decided already.")
            % {"level": seen_level, "reference": locked.reference},
            current=locked.status,
        )
    if locked.maker_id == actor.pk:
        raise FourEyes(_("You made this request: someone else must decide it."))
    if Approval.objects.filter(request=locked, round=locked.round, approver=actor).exists():
        raise FourEyes(_("You have decided a level of this request already: another person must."))
    role = locked.approval_levels[locked.current_level - 1]
    if not holds_role_for(actor, role, locked.branch):
        raise PermissionDenied(
            _("Level %(level)d needs the role %(role)s at this branch.")
            % {"level": locked.current_level, "role": _role_label(role)}
        )
    return locked, role


def _role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def _decide(actor, request: ServiceRequest, role: str, decision: str, note: str) -> Approval:
    return Approval.objects.create(
        request=request,
        round=request.round,
        level=request.current_level,
        role=role,
        approver=actor,
        decision=decision,
        note=note,
        decided_at=timezone.now(),
    )


def request_approve(
    *, actor, request: ServiceRequest, note: str = "", level: int | None = None
) -> ServiceRequest:
    """Approve the waiting level. The last level approves the request, meets the decision
    deadline and hands the request to core banking."""
    note = _reason(note, required=False)
    with transaction.atomic():
        request, role = _lock_for_decision(actor, request, level, _("approved"))
        _decide(actor, request, role, Decision.APPROVED, note)
        decided_level = request.current_level
        if decided_level < len(request.approval_levels):
            request.current_level += 1
            _save(request, "current_level")
            _event("level_approved", actor, request, level=decided_level, role=role)
            return request
        request.status = RequestStatus.APPROVED
        request.current_level = 0
        request.decided_at = timezone.now()
        _save(request, "status", "current_level", "decided_at")
        _event("level_approved", actor, request, level=decided_level, role=role)
        _approved(actor, request)
    return request


def _approved(actor, request: ServiceRequest) -> None:
    """The bank's decision is made: meet its deadline, tell the customer, send to core banking."""
    _finish_deadline(request, DECISION_KIND, actor, met=True)
    _save(request, "due_at")
    _event("request_approved", actor, request)
    _tell_customer(actor, request)
    # A failure to hand over must not undo the decision: the send runs in a savepoint, and the
    # sweep (transactions.send_approved) sends whatever is left approved.
    try:
        with transaction.atomic():
            _send(actor, request)
    except (DomainError, DatabaseError):
        logger.exception("Sending %s to core banking failed; the sweep retries", request.reference)
        request.refresh_from_db(fields=["status", "sent_at", "due_at"])


def request_return(
    *, actor, request: ServiceRequest, reason: str, level: int | None = None
) -> ServiceRequest:
    """Send the request back to its maker for correction (rework): the decision clock stops
    until it is resubmitted, which starts a new round."""
    reason = _reason(reason)
    with transaction.atomic():
        request, role = _lock_for_decision(actor, request, level, _("returned"))
        _decide(actor, request, role, Decision.RETURNED, reason)
        decided_level = request.current_level
        request.status = RequestStatus.RETURNED
        request.current_level = 0
        request.rework_count += 1
        request.status_reason = reason
        deadline = open_deadline_for(request, kind=DECISION_KIND)
        # The maker's correction time is not the approvers': the clock stops until resubmission.
        # An overdue deadline cannot pause (it breaches at the next sweep): it runs on.
        if deadline is not None and deadline.paused_at is None and deadline.due_at > timezone.now():
            deadline_pause(deadline=deadline, actor=actor)
        _save(request, "status", "current_level", "rework_count", "status_reason")
        _event("request_returned", actor, request, level=decided_level, role=role)
        _tell_customer(actor, request)
    return request


def request_reject(
    *, actor, request: ServiceRequest, reason: str, level: int | None = None
) -> ServiceRequest:
    """Refuse the request, with a reason the customer is told. The bank has decided: the
    decision deadline is met."""
    reason = _reason(reason)
    with transaction.atomic():
        request, role = _lock_for_decision(actor, request, level, _("rejected"))
        _decide(actor, request, role, Decision.REJECTED, reason)
        decided_level = request.current_level
        now = timezone.now()
        request.status = RequestStatus.REJECTED
        request.current_level = 0
        request.status_reason = reason
        request.decided_at = request.finished_at = now
        _finish_deadline(request, DECISION_KIND, actor, met=True)
        _save(
            request,
            "status",
            "current_level",
            "status_reason",
            "decided_at",
            "finished_at",
            "due_at",
        )
        _event("request_rejected", actor, request, level=decided_level, role=role)
        _tell_customer(actor, request)
    return request


def request_cancel(*, actor, request: ServiceRequest, reason: str = "") -> ServiceRequest:
    """Withdraw a request before it is approved (the customer changed their mind). A reason is
    needed once the request was submitted."""
    with transaction.atomic():
        request = _lock(request)
        _check(actor, EDIT_PERM, request.branch_id)
        _require(request, *CANCELLABLE_STATES, action=_("cancelled"))
        reason = _reason(reason, required=request.round > 0)
        request.status = RequestStatus.CANCELLED
        request.current_level = 0
        request.status_reason = reason
        request.finished_at = timezone.now()
        _finish_deadline(request, DECISION_KIND, actor, met=False)
        _save(request, "status", "current_level", "status_reason", "finished_at", "due_at")
        _event("request_cancelled", actor, request)
        if request.round:
            _tell_customer(actor, request)
    return request


# --- Core banking.


def _send(actor, request: ServiceRequest) -> None:
    request.status = RequestStatus.SENT
    request.sent_at = timezone.now()
    deadline = deadline_start(
        subject=request, kind=CORE_KIND, policy=CORE_POLICY, branch=request.branch, actor=actor
    )
    _set_due(request, deadline)
    _save(request, "status", "sent_at", "due_at")
    # The webhook relay carries this event to core banking (docs/webhooks.md). It names the
    # request; core banking reads the form data through the API with its key (claim check), so
    # personal data never sits in the event log.
    _event(
        "request_sent",
        actor,
        request,
        request_id=request.pk,
        version=request.version.number,
        amount=str(request.amount) if request.amount is not None else None,
        currency=request.currency,
        customer_id=request.customer_id,
        core_banking_customer=request.customer.core_banking_id or None,
        branch_code=request.branch.code,
    )


def request_core_result(
    *, actor, request: ServiceRequest, result: str, reference: str = "", reason: str = ""
) -> tuple[ServiceRequest, bool]:
    """Core banking's callback: `executed` with its reference, or `failed` with a reason.

    Idempotent: the same result again returns (request, False) and changes nothing; a different
    result for a finished request, or a result for a request not sent, is a 409.
    """
    if result not in CORE_RESULTS:
        raise BadInput(_("The result is executed or failed."), field="result")
    reference = (reference or "").strip()
    if result == RequestStatus.EXECUTED and not reference:
        raise BadInput(_("Give core banking's reference."), field="reference")
    if len(reference) > ServiceRequest._meta.get_field("core_reference").max_length:
        raise BadInput(_("The reference is too long."), field="reference")
    reason = _reason(reason, required=result == RequestStatus.FAILED)
    with transaction.atomic():
        request = _lock(request)
        _check(actor, CORE_BANKING_PERM, request.branch_id)
        if request.status in CORE_RESULTS:
            same = request.status == result and (
                result == RequestStatus.FAILED or request.core_reference == reference
            )
            if same:
                return request, False
            raise InvalidTransition(
                _("Request %(reference)s is already %(status)s.")
                % {"reference": request.reference, "status": request.get_status_display()},
                current=request.status,
            )
        _require(request, RequestStatus.SENT, action=_("finished by core banking"))
        request.status = result
        request.core_reference = reference
        request.status_reason = reason if result == RequestStatus.FAILED else ""
        request.finished_at = timezone.now()
        _finish_deadline(request, CORE_KIND, actor, met=True)
        _save(request, "status", "core_reference", "status_reason", "finished_at", "due_at")
        _event(f"request_{result}", actor, request, core_reference=reference)
        _tell_customer(actor, request)
    return request, True


def requests_send_approved(*, limit: int = 500) -> int:
    """Send approved requests whose hand-over failed at approval (see _approved). SKIP LOCKED:
    overlapping sweeps, and a request being approved right now, are passed over."""
    sent = 0
    with transaction.atomic():
        waiting = (
            ServiceRequest.objects.filter(status=RequestStatus.APPROVED)
            .select_for_update(of=("self",), skip_locked=True)
            .select_related("branch", "customer", "request_type", "version")
            .order_by("decided_at")[:limit]
        )
        for request in waiting:
            try:
                with transaction.atomic():
                    _send(None, request)
            except (DomainError, DatabaseError):
                logger.exception("Sending %s to core banking failed again", request.reference)
                continue
            sent += 1
    return sent


# --- Documents.


def document_attach(
    *, actor, request: ServiceRequest, doc_type: str, uploaded_file
) -> RequestDocument:
    """Attach a document of a type the form lists; its type is read from its bytes, its size
    limited, its checksum kept. Only while the maker can still change the request."""
    with transaction.atomic():
        request = _lock(request)
        _require_maker(actor, request)
        _require(request, *EDITABLE_STATES, action=_("changed"))
        if doc_type not in {doc["code"] for doc in request.version.documents}:
            raise BadInput(_("This form takes no document of that type."), field="doc_type")
        checked = checked_upload(
            uploaded_file,
            max_bytes=settings.TRANSACTIONS_DOCUMENT_MAX_BYTES,
            allowed=settings.TRANSACTIONS_DOCUMENT_TYPES,
            field="file",
        )
        document = RequestDocument(
            request=request,
            doc_type=doc_type,
            name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=actor,
        )
        document.file.save("upload", ContentFile(checked.data), save=False)
        document.save()
        _event(
            "document_attached",
            actor,
            request,
            document=document.pk,
            doc_type=doc_type,
            size=checked.size,
            sha256=checked.sha256,
            content_type=checked.content_type,
        )
    return document


def document_remove(*, actor, document: RequestDocument) -> RequestDocument:
    """Take a document off a request the maker can still change (the file is kept for the
    audit trail; it no longer counts or shows)."""
    with transaction.atomic():
        request = _lock(document.request_id)
        _require_maker(actor, request)
        _require(request, *EDITABLE_STATES, action=_("changed"))
        document = RequestDocument.objects.select_for_update().get(pk=document.pk, request=request)
        if document.is_removed:
            return document
        document.is_removed = True
        document.save(update_fields=["is_removed"])
        _event("document_removed", actor, request, document=document.pk, doc_type=document.doc_type)
    return document


# --- Bundles.


def bundle_start(*, actor, bundle, customer, branch, shared_data: dict, ticket=None) -> BundleRun:
    """Start a bundle for a customer: one draft per request type of the bundle, each with the
    shared fields (entered once) and its own prefill."""
    _check(actor, MAKE_PERM, branch.pk)
    if not bundle.is_active:
        raise BadInput(_("This bundle is not offered now."), field="bundle")
    shared = {
        key: value for key, value in (shared_data or {}).items() if key in bundle.shared_fields
    }
    with transaction.atomic():
        run = BundleRun.objects.create(
            bundle=bundle, branch=branch, customer=customer, shared_data=shared, created_by=actor
        )
        for item in bundle.items.select_related("request_type").order_by("position"):
            request_create(
                actor=actor,
                customer=customer,
                request_type=item.request_type,
                branch=branch,
                data=shared,
                ticket=ticket,
                bundle_run=run,
            )
        record(
            type="transactions.bundle_started",
            actor=actor,
            branch=branch,
            customer=customer,
            subject=run,
            payload={"bundle": bundle.code, "shared_fields": sorted(shared)},
        )
    return run


def bundle_confirm(*, actor, run: BundleRun) -> BundleRun:
    """The customer's one confirmation of the whole bundle: every request of the run is
    submitted, all or none (the first that fails its checks stops the lot, with its error)."""
    with transaction.atomic():
        run = BundleRun.objects.select_for_update().select_related("bundle").get(pk=run.pk)
        _check(actor, EDIT_PERM, run.branch_id)
        if run.confirmed_at is not None:
            raise Conflict(_("This bundle has been confirmed already."))
        requests = list(run.requests.order_by("pk"))
        for request in requests:
            if request.status in EDITABLE_STATES:
                try:
                    request_submit(actor=actor, request=request)
                except DomainError as exc:
                    # Say which form of the bundle the error belongs to.
                    exc.message = f"{request.request_type.name}: {exc.message}"
                    raise
        run.confirmed_at = timezone.now()
        run.save(update_fields=["confirmed_at"])
        record(
            type="transactions.bundle_confirmed",
            actor=actor,
            branch=run.branch,
            customer=run.customer,
            subject=run,
            payload={"bundle": run.bundle.code, "requests": [r.reference for r in requests]},
        )
    return run


# --- Consultation hand-off.


def request_from_consultation(consultation, *, actor) -> str:
    """A draft for the customer of a consultation closed with "referred to processing": the
    request type from the consultation's products (PRODUCT_REQUEST_TYPES), the question in the
    form's notes field if it has one. Returns "transactions.servicerequest:<pk>"."""
    if consultation.customer_id is None:
        raise BadInput(_("Find or register the customer first: a request needs one."))
    codes = [
        PRODUCT_REQUEST_TYPES[product.family]
        for product in consultation.products.all()
        if product.family in PRODUCT_REQUEST_TYPES
    ]
    request_type = (
        RequestType.objects.filter(code__in=codes, is_active=True).order_by("sort_order").first()
        if codes
        else None
    )
    if request_type is None:
        raise BadInput(
            _("No request type matches the consultation's products: open the request by hand.")
        )
    maker = actor or consultation.advisor
    request = request_create(
        actor=maker,
        customer=consultation.customer,
        request_type=request_type,
        branch=consultation.branch,
        data={"notes": consultation.question} if consultation.question else None,
        ticket=consultation.ticket,
        consultation=consultation,
    )
    return f"transactions.servicerequest:{request.pk}"
