"""Attachments: the type read from the bytes, the size limited, the public form's count limited;
removing hides a file and keeps it."""

# The fixtures imported from lifecycle_fixtures reappear as test arguments.
# ruff: noqa: F811

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from bankservice.core.errors import BadInput, Conflict
from complaints.models import ComplaintAttachment
from complaints.services import (
    attachment_add,
    attachment_remove,
    complaint_assign,
    complaint_withdraw,
)

from .lifecycle_fixtures import (  # noqa: F401 (fixtures)
    complaint,
    events,
    media,
    now,
    other_branch_officer,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def upload(data=PDF, name="statement.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_staff_attach_a_file_its_type_read_from_the_bytes(complaint, teller, media):
    attachment = attachment_add(
        actor=teller, complaint=complaint, uploaded_file=upload(name="../../receipt.png.pdf")
    )

    attachment.refresh_from_db()
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "receipt.png.pdf",
        "application/pdf",
        len(PDF),
    )
    assert attachment.uploaded_by == teller
    # Stored under a random name in the complaint's folder, with the bytes given.
    assert attachment.file.name.startswith(f"complaints/{complaint.pk}/")
    assert "receipt" not in attachment.file.name
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF
    payload = events("complaints.attachment_added")[0].payload
    assert payload["attachment_id"] == attachment.pk
    assert payload["content_type"] == "application/pdf"
    assert "receipt" not in str(payload)


def test_a_disguised_or_too_large_file_is_refused(complaint, teller, media, settings):
    page = upload(b"<html><script>alert(1)</script></html>", name="x.pdf")
    with pytest.raises(BadInput) as refused:
        attachment_add(actor=teller, complaint=complaint, uploaded_file=page)
    assert refused.value.field == "file"
    settings.COMPLAINTS_ATTACHMENT_MAX_BYTES = 20
    with pytest.raises(BadInput) as refused:
        attachment_add(actor=teller, complaint=complaint, uploaded_file=upload())
    assert refused.value.field == "file"
    assert not ComplaintAttachment.objects.exists()


def test_the_public_form_attaches_a_limited_number_of_files(complaint, media, settings, teller):
    settings.COMPLAINTS_PUBLIC_MAX_FILES = 2
    for _n in range(2):
        attachment = attachment_add(actor=None, complaint=complaint, uploaded_file=upload(PNG))
        assert attachment.uploaded_by is None
    with pytest.raises(BadInput) as refused:
        attachment_add(actor=None, complaint=complaint, uploaded_file=upload(PNG))
    assert refused.value.field == "file"
    # Staff are not limited by the public form's count.
    attachment_add(actor=teller, complaint=complaint, uploaded_file=upload())
    assert complaint.attachments.count() == 3


def test_attaching_is_for_intake_staff_at_the_branch_of_an_open_complaint(
    complaint, other_branch_officer, make_staff, officer, media
):
    for actor in (other_branch_officer, make_staff("auditor", branch=complaint.branch)):
        with pytest.raises(PermissionDenied):
            attachment_add(actor=actor, complaint=complaint, uploaded_file=upload())
    complaint_withdraw(actor=officer, complaint=complaint)
    with pytest.raises(Conflict):
        attachment_add(actor=officer, complaint=complaint, uploaded_file=upload())


def test_removing_hides_the_file_and_keeps_it(
    complaint, teller, officer, officer_2, branch_manager, media
):
    attachment = attachment_add(actor=teller, complaint=complaint, uploaded_file=upload())
    complaint_assign(actor=branch_manager, complaint=complaint, officer=officer)
    # Intake staff cannot remove; nor another officer than the one assigned.
    for actor in (teller, officer_2):
        with pytest.raises(PermissionDenied):
            attachment_remove(actor=actor, attachment=attachment)

    attachment = attachment_remove(actor=officer, attachment=attachment)
    attachment_remove(actor=officer, attachment=attachment)  # again: nothing more happens

    attachment.refresh_from_db()
    assert attachment.is_removed
    assert attachment.file.storage.exists(attachment.file.name)
    assert len(events("complaints.attachment_removed")) == 1
