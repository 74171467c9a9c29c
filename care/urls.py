"""Staff pages of customer care, mounted at /care/ (namespace `care`)."""

from django.urls import path

from . import views

app_name = "care"
urlpatterns = [
    path("", views.worklist_view, name="worklist"),
    path("callbacks/<int:callback_id>/", views.callback_detail, name="callback"),
    path("callbacks/<int:callback_id>/reveal/", views.callback_reveal, name="reveal"),
    path("callbacks/<int:callback_id>/claim/", views.callback_claim_view, name="claim"),
    path("callbacks/<int:callback_id>/attempt/", views.callback_attempt_view, name="attempt"),
    path("callbacks/<int:callback_id>/complete/", views.callback_complete_view, name="complete"),
]
