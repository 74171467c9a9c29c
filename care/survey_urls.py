"""Survey results for staff, mounted at /care/surveys/ (namespace `care`; see survey_views.py)."""

from django.urls import path

from . import survey_views

urlpatterns = [
    path("", survey_views.surveys_view, name="surveys"),
    path("<int:survey_id>/", survey_views.survey_detail, name="survey"),
]
