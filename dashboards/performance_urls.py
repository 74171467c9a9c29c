"""Staff performance and the monthly branch report, under /dashboards/ (namespace "dashboards")."""

from django.urls import path

from . import performance_views

urlpatterns = [
    path("staff/", performance_views.staff, name="staff"),
    path("reports/monthly/", performance_views.monthly_report, name="monthly_report"),
]
