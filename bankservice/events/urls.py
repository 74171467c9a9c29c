from django.urls import path

from . import views

app_name = "events"
urlpatterns = [
    path("", views.audit_trail, name="audit"),
    path("export.csv", views.audit_export, name="export"),
]
