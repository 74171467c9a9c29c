"""Reads for complaints: lists scoped to the principal's branches, one complaint with its access
check, its clocks and its history."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from bankservice.events.models import Event
from bankservice.sla.models import Deadline

from .deadlines import KIND_PREFIX
from .models import Complaint

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


def complaint_clocks(complaint: Complaint) -> QuerySet[Deadline]:
    """The complaint's clocks (kernel deadlines of kind ``complaint.*``), in start order."""
    return Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(Complaint),
        subject_id=str(complaint.pk),
        kind__startswith=KIND_PREFIX,
    ).order_by("started_at", "id")


def complaint_history(complaint: Complaint) -> QuerySet[Event]:
    """Every event of the complaint, oldest first."""
    return (
        Event.objects.filter(
            subject_type=ContentType.objects.get_for_model(Complaint),
            subject_id=str(complaint.pk),
        )
        .select_related("actor_user", "actor_client")
        .order_by("occurred_at", "id")
    )
