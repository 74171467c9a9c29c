"""The customer's progress page, mounted at the site root (no login; see public_views.py)."""

from django.urls import path

from . import public_views

app_name = "transactions_public"
urlpatterns = [
    path("r/<str:public_token>/", public_views.progress, name="progress"),
]
