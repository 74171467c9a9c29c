"""REST resources of the consultation stage, mounted under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("consultation.kb.api")),
    path("", include("consultation.assistant.api")),
]
