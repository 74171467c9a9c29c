"""Staff pages of transaction processing, mounted at /transactions/ (namespace `transactions`)."""

from django.urls import path

from . import receipts, views

app_name = "transactions"
urlpatterns = [
    path("", views.worklist_view, name="worklist"),
    path("new/", views.request_new, name="new"),
    path("bundles/<int:run_id>/", views.bundle_run_view, name="bundle-run"),
    path("bundles/<int:run_id>/confirm/", views.bundle_run_confirm, name="bundle-confirm"),
    path("requests/<int:request_id>/", views.request_detail, name="request"),
    path("requests/<int:request_id>/receipt/", receipts.receipt_page, name="receipt"),
    path("requests/<int:request_id>/receipt.pdf", receipts.receipt_pdf, name="receipt-pdf"),
    path("requests/<int:request_id>/save/", views.request_save, name="save"),
    path("requests/<int:request_id>/decide/", views.request_decide, name="decide"),
    path("requests/<int:request_id>/cancel/", views.request_cancel_view, name="cancel"),
    path("requests/<int:request_id>/receipt/", receipts.receipt_page, name="receipt"),
    path("requests/<int:request_id>/receipt.pdf", receipts.receipt_pdf, name="receipt-pdf"),
    path("requests/<int:request_id>/documents/", views.document_upload, name="document-upload"),
    path(
        "requests/<int:request_id>/documents/<int:document_id>/",
        views.document_file,
        name="document",
    ),
    path(
        "requests/<int:request_id>/documents/<int:document_id>/remove/",
        views.document_remove_view,
        name="document-remove",
    ),
]
