"""What transactions registers at start-up: deadline policies and handlers, event labels,
message types, the consultation hand-off."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

# The SLA a request-type version may name (RequestTypeVersion.sla_policy), on the branch's
# business clock: the bank's decision from submission to approval or rejection.
REQUEST_POLICIES = {
    "transactions.4h": {"business_hours": 4, "warn_before": timedelta(hours=1)},
    "transactions.1d": {"business_days": 1, "warn_before": 0.25},
    "transactions.3d": {"business_days": 3, "warn_before": 0.2},
    "transactions.5d": {"business_days": 5, "warn_before": 0.2},
}

EVENT_LABELS = {
    "transactions.request_created": _("Request drafted"),
    "transactions.request_updated": _("Request changed"),
    "transactions.request_submitted": _("Request submitted"),
    "transactions.request_resubmitted": _("Request resubmitted after correction"),
    "transactions.level_approved": _("Approval level approved"),
    "transactions.request_approved": _("Request approved"),
    "transactions.request_returned": _("Request returned for correction"),
    "transactions.request_rejected": _("Request rejected"),
    "transactions.request_cancelled": _("Request cancelled"),
    "transactions.request_sent": _("Request sent to core banking"),
    "transactions.request_executed": _("Request executed by core banking"),
    "transactions.request_failed": _("Request failed in core banking"),
    "transactions.request_due_soon": _("Request nearly due"),
    "transactions.request_escalated": _("Request overdue: escalated to the branch manager"),
    "transactions.document_attached": _("Document attached"),
    "transactions.document_removed": _("Document removed"),
    "transactions.bundle_started": _("Bundle started"),
    "transactions.bundle_confirmed": _("Bundle confirmed by the customer"),
}

_STAFF_SAMPLE = {
    "request_reference": "SR261129000042",
    "request_type_zh": "大额取现",
    "request_type_en": "Large cash withdrawal",
    "status": "submitted",
    "due_at": "2026-11-30T09:00:00+00:00",
    "request_id": 42,
}


def ready() -> None:
    from bankservice.events.catalogue import register_event_labels
    from bankservice.notify.registry import MessageType, register
    from bankservice.sla.policies import DeadlinePolicy, register_handler, register_policy
    from consultation.handoffs import register_handoff

    from . import deadlines, services

    for name, duration in REQUEST_POLICIES.items():
        register_policy(DeadlinePolicy(name=name, **duration))
    # Core banking answers within hours; past that a person looks at the interface.
    register_policy(
        DeadlinePolicy(name=services.CORE_POLICY, business_hours=4, warn_before=timedelta(hours=1))
    )
    for kind in (services.DECISION_KIND, services.CORE_KIND):
        register_handler(kind, on_breach=deadlines.escalate, on_warning=deadlines.warn)

    register_event_labels(EVENT_LABELS)

    register(
        MessageType(
            services.STATUS_MESSAGE,
            _("A service request's status changed: the new status, its reason, the progress link"),
            required=("status", "request_reference", "request_type_zh", "request_type_en"),
            channels=("sms",),
            sample={
                "status": "returned",
                "request_reference": "SR261129000042",
                "request_type_zh": "开立账户",
                "request_type_en": "Open an account",
                "reason": "Please bring your residence permit.",
                "progress_url": "https://bank.example/r/abc/",
            },
        )
    )
    register(
        MessageType(
            deadlines.DUE_SOON_MESSAGE,
            _("To staff: a service request is nearly due"),
            required=("request_reference", "due_at", "request_id"),
            channels=("email",),
            sample=_STAFF_SAMPLE,
        )
    )
    register(
        MessageType(
            deadlines.ESCALATED_MESSAGE,
            _("To the branch manager: a service request is overdue"),
            required=("request_reference", "due_at", "request_id"),
            channels=("email",),
            sample=_STAFF_SAMPLE,
        )
    )

    register_handoff("processing", services.request_from_consultation)
