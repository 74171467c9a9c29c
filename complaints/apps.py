from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_STAFF_SAMPLE = {
    "complaint_reference": "CP261129000042",
    "complaint_id": 42,
    "clock_zh": "作出处理决定并告知投诉人",
    "clock_en": "Decision and notice",
    "due_at": "2026-12-14 24:00",
    "level": 1,
}

EVENT_LABELS = {
    "complaints.complaint_received": _("Complaint received"),
    "complaints.complaint_assigned": _("Complaint assigned"),
    "complaints.complaint_acknowledged": _("Complaint acknowledged"),
    "complaints.complaint_investigating": _("Investigation started"),
    "complaints.complaint_waiting": _("Waiting on the customer"),
    "complaints.complaint_customer_replied": _("The customer replied"),
    "complaints.resolution_proposed": _("Resolution proposed"),
    "complaints.complaint_decided": _("Complaint decided"),
    "complaints.complaint_withdrawn": _("Complaint withdrawn"),
    "complaints.complaint_reopened": _("Complaint reopened"),
    "complaints.complaint_merged": _("Complaint merged into an earlier one"),
    "complaints.review_requested": _("Review requested"),
    "complaints.extension_requested": _("Extension requested"),
    "complaints.extension_applied": _("Extension applied"),
    "complaints.extension_refused": _("Extension refused"),
    "complaints.attachment_added": _("File attached"),
    "complaints.attachment_removed": _("File removed"),
    "complaints.root_cause_set": _("Root cause recorded"),
    "complaints.note_added": _("Case note added"),
    "complaints.complaint_classified": _("Category corrected"),
    "complaints.exported": _("Complaints exported"),
    "complaints.pack_copied": _("Rule pack copied"),
    "complaints.pack_assigned": _("Rule pack assigned"),
    "complaints.letter_sent": _("Letter sent to the complainant"),
    "complaints.clock_warned": _("Complaint deadline nearly due"),
    "complaints.clock_breached": _("Complaint deadline passed"),
    "complaints.window_passed": _("Complaint window closed"),
    "complaints.complaint_escalated": _("Complaint escalated"),
    "complaints.action_created": _("Corrective action added"),
    "complaints.action_completed": _("Corrective action done"),
    "complaints.action_cancelled": _("Corrective action cancelled"),
    "complaints.action_due_soon": _("Corrective action nearly due"),
    "complaints.action_overdue": _("Corrective action overdue"),
}


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        from bankservice.events.catalogue import register_event_labels
        from bankservice.notify.registry import MessageType, register
        from bankservice.sla.policies import register_handler, register_policy
        from consultation.handoffs import register_handoff

        from . import deadlines, handoffs, letters

        for policy in deadlines.POLICIES.values():
            register_policy(policy)
        register_policy(deadlines.escalation_policy())
        register_policy(deadlines.ACTION_POLICY)
        for kind in deadlines.SHIPPED_KINDS:
            register_handler(kind, on_breach=deadlines.on_breach, on_warning=deadlines.on_warning)
        register_handler(deadlines.ESCALATION_KIND, on_breach=deadlines.on_escalation_breach)
        register_handler(
            deadlines.ACTION_KIND,
            on_breach=deadlines.on_action_breach,
            on_warning=deadlines.on_action_warning,
        )

        register(
            MessageType(
                letters.MESSAGE,
                _(
                    "A letter about a complaint (acknowledgement, extension, final response): "
                    "the letter by e-mail, or a short SMS with the progress link"
                ),
                required=("letter_kind", "complaint_reference", "subject"),
                sample=letters.MESSAGE_SAMPLE,
            )
        )
        register(
            MessageType(
                deadlines.DUE_SOON_MESSAGE,
                _("To staff: a complaint's deadline is nearly due"),
                required=("complaint_reference", "complaint_id", "due_at"),
                channels=("email",),
                sample=_STAFF_SAMPLE,
            )
        )
        register(
            MessageType(
                deadlines.ESCALATED_MESSAGE,
                _("To managers: a complaint's deadline passed and it is escalated to them"),
                required=("complaint_reference", "complaint_id", "due_at", "level"),
                channels=("email",),
                sample=_STAFF_SAMPLE,
            )
        )
        register(
            MessageType(
                deadlines.ACTION_DUE_MESSAGE,
                _("To staff: a corrective action is nearly due or overdue"),
                required=("complaint_reference", "action_id", "due_date", "overdue"),
                channels=("email",),
                sample={
                    "complaint_reference": "CP261129000042",
                    "action_id": 7,
                    "due_date": "2026-12-31",
                    "overdue": True,
                },
            )
        )
        register_event_labels(EVENT_LABELS)
        # A consultation closed with "complaint raised" becomes a complaint (docs/handoffs.md).
        register_handoff("complaint", handoffs.complaint_from_consultation)

    def seed_demo(self, *, branches) -> dict[str, int]:
        """The demo's English branches count on the UK pack (the rest on the bank's CN default),
        and a dozen complaints in varied states (complaints/demo.py)."""
        from .demo import seed_demo

        return seed_demo(branches=branches)
