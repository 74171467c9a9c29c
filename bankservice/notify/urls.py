"""Machine-to-machine endpoints of notifications, mounted at /notify/ (namespace `notify`)."""

from django.urls import path

from . import receipts

app_name = "notify"
urlpatterns = [
    path("sms/receipts", receipts.sms_receipt, name="sms_receipt"),
]
