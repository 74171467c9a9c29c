"""Staff pages of the knowledge base, inside the `consultation` namespace (names start `kb-`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="kb-home"),
    path("new/", views.article_new, name="kb-article-new"),
    path("review/", views.review_queue, name="kb-review"),
    path("unanswered/", views.unanswered, name="kb-unanswered"),
    path("<int:article_id>/", views.article_detail, name="kb-article"),
    path("<int:article_id>/edit/", views.article_edit, name="kb-article-edit"),
    path("<int:article_id>/feedback/", views.feedback, name="kb-feedback"),
    path("<int:article_id>/history/", views.history, name="kb-history"),
    path("<int:article_id>/new-version/", views.version_new, name="kb-version-new"),
    path("<int:article_id>/archive/", views.article_archive_view, name="kb-article-archive"),
    path("<int:article_id>/attachments/", views.attachment_upload, name="kb-attachment-add"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="kb-attachment"),
    path(
        "attachments/<int:attachment_id>/remove/",
        views.attachment_delete,
        name="kb-attachment-remove",
    ),
    path("versions/<int:version_id>/", views.version_detail, name="kb-version"),
    path("versions/<int:version_id>/edit/", views.version_edit_view, name="kb-version-edit"),
    path("versions/<int:version_id>/submit/", views.version_submit_view, name="kb-version-submit"),
    path(
        "versions/<int:version_id>/approve/", views.version_approve_view, name="kb-version-approve"
    ),
    path("versions/<int:version_id>/return/", views.version_return_view, name="kb-version-return"),
]
