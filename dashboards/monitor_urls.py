"""The live monitor and its alert rules, under /dashboards/monitor/."""

from django.urls import path

from . import monitor_views

urlpatterns = [
    path("", monitor_views.monitor_page, name="monitor"),
    path("panel/", monitor_views.monitor_panel, name="monitor_panel"),
    path("alerts/", monitor_views.alert_rules, name="alert_rules"),
    path("alerts/<int:pk>/", monitor_views.alert_rule_edit, name="alert_rule_edit"),
    path("alerts/<int:pk>/delete/", monitor_views.alert_rule_delete, name="alert_rule_delete"),
]
