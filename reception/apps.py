from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceptionConfig(AppConfig):
    name = "reception"
    verbose_name = _("Reception")

    def ready(self) -> None:
        from bankservice.events.catalogue import register_event_labels

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
            }
        )

    def seed_demo(self, *, branches) -> dict[str, int]:
        from .demo import seed_reception

        return seed_reception(branches=branches)

    def demo_links(self, *, base_url: str) -> list[str]:
        from .demo import demo_links

        return demo_links(base_url=base_url)
