from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "bankservice.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self):
        from bankservice.events.catalogue import register_event_labels

        # The gateway's delivery receipts (bankservice/notify/receipts.py).
        register_event_labels(
            {
                "notification.delivered": _("Message delivered"),
                "notification.undelivered": _("Message not delivered"),
            }
        )
