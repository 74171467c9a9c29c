from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceptionConfig(AppConfig):
    name = "reception"
    verbose_name = _("Reception")

    def ready(self) -> None:
        from bankservice.events.catalogue import register_event_labels
        from bankservice.notify.registry import MessageType, register

        from .config import connect_signals

        connect_signals()  # the per-process configuration cache follows every change

        register(
            MessageType(
                "reception.ticket_next",
                _("You're nearly next: the ticket number, people ahead, the status page link"),
                required=("number", "ahead", "service", "service_zh", "status_url"),
                channels=("sms",),
                quiet_hours=False,  # the customer is in the queue right now
                sample={
                    "number": "A012",
                    "ahead": 2,
                    "service": "Cash",
                    "service_zh": "现金业务",
                    "status_url": "https://queue.bank.example/t/abc/",
                },
            )
        )

        _register_appointment_messages()

        register_event_labels(
            {
                "reception.ticket_issued": _("Ticket issued"),
                "reception.ticket_called": _("Ticket called"),
                "reception.ticket_recalled": _("Ticket called again"),
                "reception.ticket_serving": _("Service started"),
                "reception.ticket_completed": _("Service completed"),
                "reception.ticket_no_show": _("Did not come when called"),
                "reception.ticket_transferred": _("Transferred"),
                "reception.ticket_parked": _("Set aside"),
                "reception.ticket_unparked": _("Back in the queue"),
                "reception.ticket_unserved": _("Closed unserved at end of day"),
                "reception.counter_opened": _("Counter opened"),
                "reception.counter_closed": _("Counter closed"),
                "reception.counter_paused": _("Counter paused"),
                "reception.counter_resumed": _("Counter resumed"),
                "reception.appointment_booked": _("Appointment booked"),
                "reception.appointment_rescheduled": _("Appointment moved"),
                "reception.appointment_cancelled": _("Appointment cancelled"),
                "reception.appointment_checked_in": _("Checked in for the appointment"),
                "reception.appointment_no_show": _("Did not come to the appointment"),
                "reception.appointment_reminded": _("Appointment reminder sent"),
                "reception.advisor_availability_added": _("Advisor availability added"),
                "reception.advisor_availability_removed": _("Advisor availability removed"),
                "reception.advisor_time_off_added": _("Advisor time off added"),
                "reception.advisor_time_off_removed": _("Advisor time off removed"),
                "reception.service_type_created": _("Service added"),
                "reception.service_type_updated": _("Service changed"),
                "reception.priority_rule_updated": _("Priority rule changed"),
            }
        )

    def seed_demo(self, *, branches) -> dict[str, int]:
        from .demo import seed_reception

        return seed_reception(branches=branches)

    def demo_links(self, *, base_url: str) -> list[str]:
        from .demo import demo_links

        return demo_links(base_url=base_url)


def _register_appointment_messages() -> None:
    """The appointment messages (reception/appointments.py fills their context)."""
    from bankservice.notify.registry import MessageType, register

    required = ("service_en", "service_zh", "when", "manage_url")
    sample = {
        "service_en": "Wealth management",
        "service_zh": "理财咨询",
        "when": "2026-03-05 10:30",
        "checkin_from": "10:00",
        "branch_address": "1 Bund Road",
        "manage_url": "https://desk.bank.example/a/abc/",
        "advisor": "Li W.",
    }
    for key, description in (
        ("reception.appointment_booked", _("Appointment confirmation, with the manage link")),
        ("reception.appointment_reminder", _("Appointment reminder, a day before")),
        ("reception.appointment_changed", _("Appointment moved to another time")),
        ("reception.appointment_cancelled", _("Appointment cancelled")),
    ):
        register(MessageType(key, description, required=required, sample=sample))
