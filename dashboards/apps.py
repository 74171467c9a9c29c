from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self):
        from bankservice.events.catalogue import register_event_labels

        from .alerts import register_messages

        register_event_labels({"dashboards.exported": _("Dashboard table exported")})
        # The alert e-mail and the alert rules' event labels (dashboards/alerts.py).
        register_messages()

    def seed_demo(self, *, branches) -> dict[str, int]:
        """Roll up the demo's history (the stages seed theirs first: reception's past weeks)."""
        import datetime as dt

        from django.utils import timezone

        from .rollups import rollup

        today = timezone.localdate()
        return {"KPI rollup rows": rollup(today - dt.timedelta(weeks=9), today)}
