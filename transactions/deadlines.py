"""Deadline handlers for service requests (registered in transactions/wiring.py).

A request's decision deadline runs from submission to approval or rejection; its core-banking
deadline from sending to the result (transactions/services.py). Before one falls due, the staff
who can act on the request now are warned; when it falls due the request is escalated: the
event is recorded and the branch's managers are told. Both run inside the SLA sweep's
transaction (docs/deadlines.md): the e-mails are queued there and go out after it commits, once
(dedupe keys per deadline).
"""

from bankservice.branches.models import Role
from bankservice.branches.selectors import staff_to_notify
from bankservice.events.services import record
from bankservice.notify.services import email_staff

from .models import RequestStatus, ServiceRequest

DUE_SOON_MESSAGE = "transactions.due_soon"
ESCALATED_MESSAGE = "transactions.escalated"


def _request(deadline) -> ServiceRequest:
    return ServiceRequest.objects.select_related("branch", "customer", "request_type").get(
        pk=int(deadline.subject_id)
    )


def _who_acts_now(request: ServiceRequest) -> str:
    if request.status == RequestStatus.SUBMITTED and request.current_level:
        return request.approval_levels[request.current_level - 1]
    return Role.PROCESSOR


def _email(users, *, template: str, request: ServiceRequest, deadline, step: str) -> int:
    context = {
        "request_reference": request.reference,
        "request_type_zh": request.request_type.name_zh,
        "request_type_en": request.request_type.name_en,
        "status": request.status,
        "due_at": deadline.due_at.isoformat(),
        "request_id": request.pk,
    }
    return len(
        email_staff(
            users,
            template=template,
            branch=request.branch,
            context=context,
            dedupe_key=f"transactions:deadline:{deadline.pk}:{step}",
        )
    )


def warn(deadline) -> None:
    """Nearly due: tell the staff who can move the request on now (the level's role, or the
    back office once it is with core banking)."""
    request = _request(deadline)
    role = _who_acts_now(request)
    told = _email(
        staff_to_notify(role, request.branch),
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
        staff_to_notify(Role.BRANCH_MANAGER, request.branch),
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
