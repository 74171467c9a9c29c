"""Staff pages of the consultation stage, mounted at /consultation/.

One namespace, `consultation`; knowledge-base names start with `kb-`, the assistant's with
`assistant-`, consultations have none.
"""

from django.urls import include, path

from . import views

app_name = "consultation"
urlpatterns = [
    path("kb/", include("consultation.kb.urls")),
    path("assistant/", include("consultation.assistant.urls")),
    path("", views.consultation_list_view, name="list"),
    path("new/", views.consultation_new, name="new"),
    path(
        "from-ticket/<int:ticket_id>/",
        views.consultation_start_from_ticket,
        name="start-from-ticket",
    ),
    path("<int:consultation_id>/", views.consultation_detail, name="detail"),
    path("<int:consultation_id>/edit/", views.consultation_edit, name="edit"),
    path("<int:consultation_id>/article/", views.consultation_article, name="article"),
    path("<int:consultation_id>/close/", views.consultation_close_view, name="close"),
    path(
        "<int:consultation_id>/handoff-retry/",
        views.consultation_handoff_retry,
        name="handoff-retry",
    ),
]
