"""The evaluation and staffing pages (issue 9), included by dashboards/urls.py at /dashboards/."""

from django.urls import path

from . import analysis_views

urlpatterns = [
    path("evaluation/", analysis_views.evaluation_view, name="evaluation"),
    path("staffing/", analysis_views.staffing_view, name="staffing"),
]
