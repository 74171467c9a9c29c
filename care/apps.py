from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "care"
    verbose_name = _("Care")

    def ready(self):
        from consultation.handoffs import register_handoff

        # Imported for their message keys and event labels.
        from . import campaigns, deadlines, handoffs, survey_responses, surveys  # noqa: F401

        # Callback deadlines: the policy, the warning and escalation handlers, event labels
        # and messages (care/deadlines.py).
        deadlines.register()
        # A consultation closed with "follow-up needed" becomes a callback (docs/handoffs.md).
        register_handoff("follow_up", handoffs.callback_from_consultation)

    def seed_demo(self, *, branches) -> dict[str, int]:
        """Callbacks, answered surveys and a draft campaign at one branch (care/demo.py)."""
        from .demo import seed_demo

        return seed_demo(branches=branches)
