"""The complaints report and the regulatory return's downloads (included at complaints/reports/)."""

from django.urls import path

from . import report_views

app_name = "complaint_reports"
urlpatterns = [
    path("", report_views.report, name="report"),
    path("return.csv", report_views.export_csv, name="export_csv"),
    path("return.xlsx", report_views.export_xlsx, name="export_xlsx"),
]
