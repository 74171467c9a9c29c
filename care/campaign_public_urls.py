"""The customer's opt-out page of a campaign message, at the site root (no login)."""

from django.urls import path

from . import campaign_views

app_name = "care_campaign"
urlpatterns = [
    path("o/<str:public_token>/", campaign_views.opt_out_page, name="opt_out"),
]
