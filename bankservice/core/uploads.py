"""Checking uploaded files: the type is read from the bytes, never from the name or the header.

A browser's content type and the file's extension are whatever the sender says; a PDF renamed
`.png` is still a PDF, and an HTML page renamed `.pdf` must not be served back as a document.
`sniff_content_type` reads the magic numbers of the types the service desk accepts; anything
else is refused. Used by the knowledge base's attachments and the documents of requests.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .errors import BadInput

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
TEXT = "text/plain"
CSV = "text/csv"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Shown inline (the browser renders them itself, no script runs); everything else downloads.
INLINE_TYPES = frozenset({PDF, PNG, JPEG, GIF, WEBP})

_MAGIC = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
)


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the checks: its bytes, sniffed type, size and SHA-256."""

    name: str
    content_type: str
    size: int
    sha256: str
    data: bytes


def _office_type(data: bytes) -> str | None:
    # DOCX and XLSX are zip archives told apart by the part that holds the document.
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _text_type(data: bytes, name: str) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if "\x00" in text or text.lstrip()[:1] == "<":
        # Binary, or markup a browser could treat as a page: not "plain text".
        return None
    return CSV if name.lower().endswith(".csv") else TEXT


def sniff_content_type(data: bytes, name: str = "") -> str | None:
    """The content type the bytes are (one we know), else None.

    Only plain text is told apart from CSV by the name: both are text, and neither runs.
    """
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04"):
        return _office_type(data)
    return _text_type(data, name)


def clean_filename(name: str) -> str:
    """The last part of the name the sender gave, without control characters, for display."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>')
    return base.strip()[:200] or "file"


def checked_upload(upload, *, max_bytes: int, allowed, field: str = "file") -> CheckedUpload:
    """Read an uploaded file within the size limit and check its real type is allowed.

    Raises BadInput on `field` (an HTTP 400 or a form error) for an empty, too large or
    unaccepted file. Reads at most `max_bytes + 1` bytes, whatever size the sender claims.
    """
    if upload is None:
        raise BadInput(_("Choose a file."), field=field)
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if not data:
        raise BadInput(_("The file is empty."), field=field)
    if len(data) > max_bytes:
        raise BadInput(
            _("The file is larger than %(limit)s.") % {"limit": filesizeformat(max_bytes)},
            field=field,
        )
    name = clean_filename(getattr(upload, "name", ""))
    content_type = sniff_content_type(data, name)
    if content_type is None or content_type not in allowed:
        raise BadInput(_("This type of file is not accepted."), field=field)
    return CheckedUpload(
        name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
