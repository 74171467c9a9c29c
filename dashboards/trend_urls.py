"""The overview, the KPI definitions and the trends (dashboards/views.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("definitions/", views.definitions, name="definitions"),
    path("trends/", views.trends, name="trends"),
]
