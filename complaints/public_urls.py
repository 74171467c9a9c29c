"""The complainant's pages, mounted at the site root (no login; see public_views.py)."""

from django.urls import path

from . import public_views

app_name = "complaints_public"
urlpatterns = [
    path("complaint/", public_views.complaint_form, name="form"),
    path("c/<str:public_token>/", public_views.progress, name="progress"),
    path("c/<str:public_token>/received/", public_views.complaint_received, name="received"),
    path("c/<str:public_token>/accept/", public_views.accept, name="accept"),
    path("c/<str:public_token>/review/", public_views.review, name="review"),
]
