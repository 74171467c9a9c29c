"""Reads for service requests: lists scoped to the principal's branches, worklists by due
time, one request with its access check, its history."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.http import Http404
from django.utils.translation import gettext as _

from bankservice.branches.models import Branch, StaffMembership
from bankservice.events.models import Event
from bankservice.events.selectors import subject_history
from bankservice.sla.models import Deadline

from .models import OPEN_STATES, Approval, RequestStatus, ServiceRequest
from .services import APPROVE_PERM, PROCESS_PERM, VIEW_PERM

# What each worklist shows: waiting for a decision, or with (or back from) core banking.
WORKLIST_STATES = {
    "approve": (RequestStatus.SUBMITTED,),
    "process": (RequestStatus.APPROVED, RequestStatus.SENT, RequestStatus.FAILED),
}
WORKLIST_PERMS = {"approve": APPROVE_PERM, "process": PROCESS_PERM}
# An open SLA deadline runs while someone other than the maker has the request.
TIMED_STATES = (RequestStatus.SUBMITTED, RequestStatus.APPROVED, RequestStatus.SENT)
# Soonest due first, requests without a running deadline last (on every database).
DUE_FIRST = F("due_at").asc(nulls_last=True)
# Approval rules have at most this many levels (two in practice): one condition per level.
MAX_LEVELS = 3


def request_list(principal, perm: str = VIEW_PERM) -> QuerySet[ServiceRequest]:
    """Requests at the branches where the principal holds `perm`, with what a list shows."""
    return ServiceRequest.objects.visible_to(principal, perm).select_related(
        "branch", "customer", "request_type", "maker"
    )


def my_requests(principal) -> QuerySet[ServiceRequest]:
    """The maker's own open requests, the soonest due first (drafts last)."""
    return (
        request_list(principal)
        .filter(maker_id=principal.pk, status__in=OPEN_STATES)
        .order_by(DUE_FIRST, "-created_at", "-id")
    )


def _approver_levels(principal) -> Q:
    """Requests whose waiting level needs a role the principal holds where the request is:
    one condition per (role, where) membership, matched on the JSON array of levels."""
    condition = Q(pk__in=[])
    memberships = StaffMembership.objects.filter(user_id=principal.pk).values_list(
        "role__name", "branch_id", "region_id"
    )
    for role, branch_id, region_id in memberships:
        if branch_id is not None:
            where = Q(branch_id=branch_id)
        elif region_id is not None:
            # The region's branch ids (a subquery), not a join to branches: with a join the
            # planner misjudges the rows and sorts the whole table before taking a page.
            where = Q(branch_id__in=Branch.objects.filter(region_id=region_id).values("id"))
        else:
            where = Q()
        for level in range(1, MAX_LEVELS + 1):
            condition |= where & Q(current_level=level, **{f"approval_levels__{level - 1}": role})
    return condition


def worklist(principal, role_kind: str) -> QuerySet[ServiceRequest]:
    """The approver's ("approve") or the back office's ("process") worklist, the soonest due
    first: scoped to the branches where the principal holds the permission; approvers see only
    levels their role decides, never their own requests nor one whose earlier level of this round
    they decided (four eyes)."""
    if role_kind not in WORKLIST_STATES:
        raise ValueError(role_kind)
    requests = request_list(principal, WORKLIST_PERMS[role_kind]).filter(
        status__in=WORKLIST_STATES[role_kind]
    )
    if role_kind == "approve":
        if getattr(principal, "is_api_client", False):
            return requests.none()
        decided_this_round = Approval.objects.filter(
            request=OuterRef("pk"), round=OuterRef("round"), approver_id=principal.pk
        )
        requests = (
            requests.filter(_approver_levels(principal))
            .exclude(maker_id=principal.pk)
            .exclude(Exists(decided_this_round))
        )
    return requests.order_by(DUE_FIRST, "id")


def access_request(user, id: int, *, perm: str = VIEW_PERM, lock: bool = False) -> ServiceRequest:
    """One request the user may see with `perm` (404 otherwise: another branch's request is not
    shown to exist); optionally locked for a write."""
    requests = request_list(user, perm).select_related("version")
    if lock:
        requests = requests.select_for_update(of=("self",))
    try:
        return requests.get(pk=id)
    except (ServiceRequest.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such request at your branches.")) from None


def request_history(request: ServiceRequest) -> QuerySet[Event]:
    """Every event of the request (its transitions, documents, deadlines' escalations), oldest
    first."""
    return subject_history(request)


def with_warning_time(requests: QuerySet[ServiceRequest]) -> QuerySet[ServiceRequest]:
    """Each request's open deadline's warning time (`warn_at`), for the "due soon" mark: one
    subquery, evaluated for the rows of the page only."""
    open_deadline = Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(ServiceRequest),
        subject_id=Cast(OuterRef("pk"), CharField()),
        state__in=Deadline.OPEN_STATES,
    ).order_by("due_at")
    return requests.annotate(warn_at=Subquery(open_deadline.values("warn_at")[:1]))


def sla_state(service_request: ServiceRequest, now) -> str:
    """ "breached", "due-soon" (its deadline's warning time has passed) or "" when on time."""
    if service_request.due_at is None or service_request.status not in TIMED_STATES:
        return ""
    if service_request.due_at <= now:
        return "breached"
    warn_at = getattr(service_request, "warn_at", None)
    return "due-soon" if warn_at is not None and warn_at <= now else ""
