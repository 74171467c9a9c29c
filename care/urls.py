"""Staff pages of customer care, mounted at /care/ (namespace `care`)."""

from django.urls import include, path

from . import campaign_urls, survey_urls, views

app_name = "care"
urlpatterns = [
    path("", views.worklist_view, name="worklist"),
    path("callbacks/<int:callback_id>/", views.callback_detail, name="callback"),
    path("callbacks/<int:callback_id>/reveal/", views.callback_reveal, name="reveal"),
    path("callbacks/<int:callback_id>/claim/", views.callback_claim_view, name="claim"),
    path("callbacks/<int:callback_id>/attempt/", views.callback_attempt_view, name="attempt"),
    path("callbacks/<int:callback_id>/complete/", views.callback_complete_view, name="complete"),
    path("callbacks/<int:callback_id>/cancel/", views.callback_cancel_view, name="cancel"),
    path("callbacks/<int:callback_id>/release/", views.callback_release_view, name="release"),
    path("surveys/", include(survey_urls)),
    path("campaigns/", include(campaign_urls)),
]
