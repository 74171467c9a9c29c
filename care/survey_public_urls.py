"""The customer's survey pages, mounted at the site root (no login; see survey_views.py)."""

from django.urls import path

from . import survey_views

app_name = "care_survey"
urlpatterns = [
    path("s/<str:token>/", survey_views.survey_page, name="survey"),
    path("s/<str:token>/thanks/", survey_views.survey_thanks, name="thanks"),
    path("s/<str:token>/opt-out/", survey_views.survey_opt_out_page, name="opt-out"),
]
