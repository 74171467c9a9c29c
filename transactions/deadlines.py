"""Deadline handlers for service requests (registered in transactions/wiring.py).

A request's decision deadline runs from submission to approval or rejection; its core-banking
deadline from sending to the result (transactions/services.py). Before one falls due, the staff
who can act on the request now are warned; when it falls due the request is escalated: the
event is recorded and the branch's managers are told. Both run inside the SLA sweep's
transaction (docs/deadlines.md): the e-mails are queued there and go out after it commits, once
(dedupe keys per deadline).
"""

from django.conf import settings
from django.contrib.auth import get_user_model

from bankservice.branches.models import Role
from bankservice.events.services import record
from bankservice.notify.services import Contact, notification_send

from .models import RequestStatus, ServiceRequest

DUE_SOON_MESSAGE = "transactions.due_soon"
ESCALATED_MESSAGE = "transactions.escalated"


def _request(deadline) -> ServiceRequest:
    return ServiceRequest.objects.select_related("branch", "customer", "request_type").get(
        pk=int(deadline.subject_id)
    )


def staff_with_role(role: str, branch):
    """Active staff holding `role` at the branch (who can act on its requests today)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__role__name=role, memberships__branch=branch)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def _who_acts_now(request: ServiceRequest) -> str:
    if request.status == RequestStatus.SUBMITTED and request.current_level:
        return request.approval_levels[request.current_level - 1]
    return Role.PROCESSOR


def _email(users, *, template: str, request: ServiceRequest, deadline, step: str) -> int:
    for user in users:
        notification_send(
            contact=Contact(
                name=user.get_full_name() or user.get_username(),
                email=user.email,
                language=settings.LANGUAGE_CODE,
                consent_email=True,
            ),
            branch=request.branch,
            channel="email",
            template=template,
            context={
                "request_reference": request.reference,
                "request_type_zh": request.request_type.name_zh,
                "request_type_en": request.request_type.name_en,
                "status": request.status,
                "due_at": deadline.due_at.isoformat(),
                "request_id": request.pk,
            },
            dedupe_key=f"transactions:deadline:{deadline.pk}:{step}:{user.pk}",
        )
    return len(users)


def warn(deadline) -> None:
    """Nearly due: tell the staff who can move the request on now (the level's role, or the
    back office once it is with core banking)."""
    request = _request(deadline)
    role = _who_acts_now(request)
    told = _email(
        list(staff_with_role(role, request.branch)),
        template=DUE_SOON_MESSAGE,
        request=request,
        deadline=deadline,
        step="warning",
    )
    _record("request_due_soon", request, deadline, role=role, told=told)


def escalate(deadline) -> None:
    """Overdue: escalate to the branch's managers (the event marks the request escalated; the
    breached deadline shows it on the worklists)."""
    request = _request(deadline)
    told = _email(
        list(staff_with_role(Role.BRANCH_MANAGER, request.branch)),
        template=ESCALATED_MESSAGE,
        request=request,
        deadline=deadline,
        step="breach",
    )
    _record("request_escalated", request, deadline, role=Role.BRANCH_MANAGER, told=told)


def _record(type_: str, request: ServiceRequest, deadline, **payload) -> None:
    record(
        type=f"transactions.{type_}",
        actor=None,
        branch=request.branch,
        customer=request.customer,
        subject=request,
        payload={
            "reference": request.reference,
            "status": request.status,
            "deadline": deadline.pk,
            "kind": deadline.kind,
            "due_at": deadline.due_at.isoformat(),
            **payload,
        },
    )
