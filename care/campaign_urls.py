"""Campaign pages, mounted at /care/campaigns/ (namespace `care`)."""

from django.urls import path

from . import campaign_views as views

urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("new/", views.campaign_new, name="campaign_new"),
    path("<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("<int:campaign_id>/edit/", views.campaign_edit, name="campaign_edit"),
    path("<int:campaign_id>/dry-run/", views.campaign_dry_run_view, name="campaign_dry_run"),
    path("<int:campaign_id>/import/", views.campaign_import, name="campaign_import"),
    path("<int:campaign_id>/schedule/", views.campaign_schedule_view, name="campaign_schedule"),
    path("<int:campaign_id>/cancel/", views.campaign_cancel_view, name="campaign_cancel"),
]
