"""Reads for complaints: lists scoped to the principal's branches, one complaint with its access
check, its clocks and its history; whether a complaint's regulatory obligations were met on time
(reports, exports, the overdue filter); extensions, letters and corrective actions in scope."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Cast, Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from bankservice.branches.scope import ALL_BRANCHES, branch_ids_for
from bankservice.events.models import Event
from bankservice.events.selectors import subject_history
from bankservice.sla.models import Deadline, DeadlineState

from .deadlines import KIND_PREFIX
from .models import (
    ClockNature,
    Complaint,
    ComplaintExtension,
    CorrectiveAction,
    Letter,
    PackClock,
)

VIEW_PERM = "complaints.view_complaint"


def complaint_list(principal, perm: str = VIEW_PERM) -> QuerySet[Complaint]:
    """Complaints at the branches where the principal holds ``perm``, with what a list shows."""
    return Complaint.objects.visible_to(principal, perm).select_related(
        "branch", "customer", "category", "subcategory", "product", "assigned_to", "pack"
    )


def complaint_get(principal, id: int, *, perm: str = VIEW_PERM) -> Complaint:
    """One complaint the principal may see with ``perm``; 404 otherwise (another branch's
    complaint is not shown to exist)."""
    try:
        return complaint_list(principal, perm).get(pk=id)
    except (Complaint.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such complaint at your branches.")) from None


def complaint_category_codes(complaint_ids) -> dict[int, str]:
    """The category code of each complaint, by id, unscoped: for another stage's rules reacting
    to complaint events (care's follow-up rules match on it), never for showing complaints."""
    return dict(Complaint.objects.filter(pk__in=complaint_ids).values_list("pk", "category__code"))


def complaint_clocks(complaint: Complaint) -> QuerySet[Deadline]:
    """The complaint's clocks (kernel deadlines of kind ``complaint.*``), in start order."""
    return Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(Complaint),
        subject_id=str(complaint.pk),
        kind__startswith=KIND_PREFIX,
    ).order_by("started_at", "id")


def complaint_history(complaint: Complaint) -> QuerySet[Event]:
    """Every event of the complaint, oldest first."""
    return subject_history(complaint)


# --- Regulatory obligations met on time ---------------------------------------------------------
# An obligation is a regulatory clock that is not a window. A complaint is *late* when one of its
# obligation clocks was met after its due time, is unmet past it (open or breached), or was
# cancelled (withdrawn, merged) only after its due time had passed; *pending* when it is not late
# and an obligation clock still runs inside its time; otherwise it was handled *within* its
# deadlines. Extensions keep the kind of the clock they extend and move its due time, so an
# approved extension is what the clock is measured against.


def _obligation_deadlines() -> QuerySet[Deadline]:
    """The outer complaint's obligation deadlines, for EXISTS subqueries on complaints: its
    clocks whose pack clock (of the complaint's own pack, by code) is regulatory and no window."""
    obligation = PackClock.objects.filter(
        pack_id=OuterRef(OuterRef("pack_id")),
        code=Substr(OuterRef("kind"), len(KIND_PREFIX) + 1),
        nature=ClockNature.REGULATORY,
        is_window=False,
    )
    return Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(Complaint),
        subject_id=Cast(OuterRef("pk"), CharField()),
        kind__startswith=KIND_PREFIX,
    ).filter(Exists(obligation))


def with_deadline_outcome(complaints: QuerySet[Complaint], *, now=None) -> QuerySet[Complaint]:
    """Annotate ``late`` and ``running`` (see above): within = neither; pending = running and
    not late. Two EXISTS subqueries on the deadlines' subject index."""
    now = now or timezone.now()
    late = _obligation_deadlines().filter(
        Q(met_at__isnull=False, met_at__gt=F("due_at"))
        | Q(met_at__isnull=True, state=DeadlineState.BREACHED)
        | Q(met_at__isnull=True, state=DeadlineState.OPEN, due_at__lte=now)
        | Q(state=DeadlineState.CANCELLED, cancelled_at__gt=F("due_at"))
    )
    running = _obligation_deadlines().filter(state=DeadlineState.OPEN, met_at__isnull=True)
    return complaints.annotate(late=Exists(late), running=Exists(running))


def overdue(complaints: QuerySet[Complaint], *, now=None) -> QuerySet[Complaint]:
    """Complaints with an obligation clock unmet past its due time (open or breached)."""
    now = now or timezone.now()
    unmet = _obligation_deadlines().filter(
        Q(state=DeadlineState.BREACHED) | Q(state=DeadlineState.OPEN, due_at__lte=now),
        met_at__isnull=True,
    )
    return complaints.filter(Exists(unmet))


def deadline_outcome(complaint: Complaint) -> str:
    """ "late", "pending" or "within" for a complaint annotated by with_deadline_outcome."""
    if complaint.late:
        return "late"
    return "pending" if complaint.running else "within"


# --- Extensions, letters, corrective actions in the principal's scope ----------------------------


def _in_scope(queryset: QuerySet, principal, perm: str, field: str) -> QuerySet:
    ids = branch_ids_for(principal, perm)
    if ids is ALL_BRANCHES:
        return queryset
    if not ids:
        return queryset.none()
    return queryset.filter(**{f"{field}__in": ids})


def extension_list(principal, perm: str = "complaints.view_complaintextension"):
    """Extensions of complaints at the branches where the principal holds ``perm``."""
    return _in_scope(
        ComplaintExtension.objects.select_related("complaint", "clock", "clock__extends"),
        principal,
        perm,
        "complaint__branch_id",
    )


def letter_list(principal, perm: str = "complaints.view_letter"):
    """Letters of complaints at the branches where the principal holds ``perm``."""
    return _in_scope(
        Letter.objects.select_related("complaint"), principal, perm, "complaint__branch_id"
    )


def action_list(principal, perm: str = "complaints.view_correctiveaction"):
    """Corrective actions at the branches where the principal holds ``perm``."""
    return CorrectiveAction.objects.visible_to(principal, perm).select_related(
        "complaint", "branch", "root_cause", "owner"
    )
