"""Uploads are judged by their bytes and their size, never by the name or header the sender
gave (bankservice/core/uploads.py)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bankservice.core.errors import BadInput
from bankservice.core.uploads import PDF, PNG, checked_upload

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_a_page_renamed_pdf_is_refused():
    page = SimpleUploadedFile(
        "statement.pdf", b"<html><script>alert(1)</script></html>", content_type=PDF
    )
    with pytest.raises(BadInput):
        checked_upload(page, max_bytes=10_000, allowed={PDF, PNG})


def test_the_type_comes_from_the_bytes_not_the_name():
    upload = SimpleUploadedFile("photo.png", PDF_BYTES, content_type=PNG)
    checked = checked_upload(upload, max_bytes=10_000, allowed={PDF, PNG})
    assert checked.content_type == PDF


def test_a_file_over_the_limit_is_refused_whatever_size_it_claims():
    upload = SimpleUploadedFile("big.pdf", PDF_BYTES + b"0" * 100)
    upload.size = 10  # the sender's claim
    with pytest.raises(BadInput):
        checked_upload(upload, max_bytes=len(PDF_BYTES), allowed={PDF})


def test_an_empty_file_is_refused():
    with pytest.raises(BadInput):
        checked_upload(SimpleUploadedFile("empty.pdf", b""), max_bytes=100, allowed={PDF})
