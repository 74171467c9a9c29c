"""Staff pages for complaints, mounted at /complaints/ (namespace `complaints`)."""

from django.urls import include, path

from . import views

app_name = "complaints"
urlpatterns = [
    path("", views.complaint_list_view, name="list"),
    path("new/", views.complaint_new, name="new"),
    path("extensions/", views.extensions_waiting, name="extensions"),
    path(
        "extensions/<int:extension_id>/decide/",
        views.extension_decide_view,
        name="extension-decide",
    ),
    path("corrective-actions/", views.corrective_actions, name="actions"),
    path(
        "corrective-actions/<int:action_id>/complete/",
        views.corrective_action_complete,
        name="action-complete",
    ),
    path("reports/", include("complaints.report_urls")),
    path("<int:complaint_id>/", views.complaint_detail, name="detail"),
    path("<int:complaint_id>/do/<slug:action>/", views.complaint_action, name="action"),
    path("<int:complaint_id>/attachments/", views.attachment_upload, name="attachment-upload"),
    path(
        "<int:complaint_id>/attachments/<int:attachment_id>/",
        views.attachment_file,
        name="attachment",
    ),
    path(
        "<int:complaint_id>/attachments/<int:attachment_id>/remove/",
        views.attachment_remove_view,
        name="attachment-remove",
    ),
]
