"""Staff pages of the dashboards, under /dashboards/ (namespace "dashboards")."""

from django.urls import include, path

app_name = "dashboards"

urlpatterns = [
    path("", include("dashboards.trend_urls")),
    path("monitor/", include("dashboards.monitor_urls")),
    path("", include("dashboards.analysis_urls")),
    path("", include("dashboards.performance_urls")),
]
