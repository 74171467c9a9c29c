"""Names people read for event types and stages (the types themselves are for machines).

Stage apps add their labels from AppConfig.ready() with `register_event_labels`; an unknown type
shows as itself. docs/webhooks.md lists every type with its payload.
"""

from django.utils.translation import gettext_lazy as _

# The timeline's stage filter: the first part of an event type.
STAGES = [
    ("customer", _("Customer record")),
    ("reception", _("Reception")),
    ("consultation", _("Consultation")),
    ("transactions", _("Processing")),
    ("complaints", _("Complaints")),
    ("care", _("Care")),
    ("notification", _("Messages")),
]

_LABELS = {
    "customer.created": _("Customer created"),
    "customer.updated": _("Customer details changed"),
    "customer.pii_revealed": _("Full ID or phone number viewed"),
    "customer.merged": _("Duplicate records merged"),
    "audit.exported": _("Audit trail exported"),
    "notification.queued": _("Message queued"),
    "notification.skipped": _("Message not sent"),
    "notification.sent": _("Message sent"),
    "notification.failed": _("Message failed"),
    "notification.unknown": _("Message outcome unknown"),
    "notification.retried": _("Message sent again"),
    "notification.cancelled": _("Message cancelled"),
    "deadline.started": _("Deadline started"),
    "deadline.paused": _("Deadline paused"),
    "deadline.resumed": _("Deadline resumed"),
    "deadline.met": _("Deadline met"),
    "deadline.cancelled": _("Deadline cancelled"),
    "deadline.extended": _("Deadline extended"),
    "deadline.warned": _("Deadline close"),
    "deadline.breached": _("Deadline missed"),
}


def register_event_labels(labels: dict) -> None:
    """Add the labels of a stage's event types (called from its AppConfig.ready)."""
    _LABELS.update(labels)


def event_label(event_type: str) -> str:
    return str(_LABELS.get(event_type, event_type))
