"""The customer's receipt of a service request: a printable page and a PDF.

What was requested (the form's fields as the customer filled them, identifiers masked), its
reference, status and the progress link (with a QR code), in the customer's language unless
`?lang=` asks for another. Staff print it at the counter, so it needs the request's view
permission at its branch (404 elsewhere); a draft has no receipt yet.
"""

from decimal import Decimal, InvalidOperation

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import eforms
from .models import RequestStatus, ServiceRequest
from .selectors import access_request
from .services import progress_url

# Shown masked on paper: a receipt can be left on a counter or in a bin.
PDF_FONT = "STSong-Light"  # reportlab's built-in CJK font (Adobe-GB1): Chinese and Latin


def _text(value, field, prop: dict) -> str:
    masker = eforms.MASKS.get(prop.get("format", ""))
    if masker is not None:
        return masker(str(value))
    if field.widget == "checkbox":
        return _("Yes") if value is True else _("No")
    if field.choices:
        return dict(field.choices).get(value, str(value))
    if field.widget == "money" and isinstance(value, dict):
        try:
            amount = formats.number_format(Decimal(value["amount"]), 2, force_grouping=True)
        except (InvalidOperation, KeyError, TypeError):
            return ""
        return f"{amount} {value.get('currency', '')}".strip()
    return str(value)


def receipt_sections(service_request: ServiceRequest) -> list[tuple[str, list[tuple[str, str]]]]:
    """The form as the customer filled it: (section title, [(label, text)]), in the active
    language; hidden and empty fields left out."""
    properties = service_request.version.form_schema.get("properties", {})
    sections = []
    for section in eforms.layout(service_request.version, service_request.data):
        rows = [
            (field.label, _text(field.value, field, properties.get(field.name, {})))
            for field in section.fields
            if not field.hidden and field.value not in (None, "", {})
        ]
        rows = [(label, text) for label, text in rows if text]
        if rows:
            sections.append((section.title, rows))
    return sections


def _receipt_request(request, request_id: int) -> ServiceRequest:
    service_request = access_request(request.user, request_id)
    if service_request.status == RequestStatus.DRAFT:
        raise Http404(_("A draft has no receipt: submit the request first."))
    return service_request


def _language(request, service_request: ServiceRequest) -> str:
    requested = request.GET.get("lang")
    languages = dict(settings.LANGUAGES)
    if requested in languages:
        return requested
    return service_request.language if service_request.language in languages else "zh-hans"


def _context(request, service_request: ServiceRequest) -> dict:
    link = progress_url(service_request) or request.build_absolute_uri(
        reverse("transactions_public:progress", args=[service_request.public_token])
    )
    zone = service_request.branch.zone
    return {
        "service_request": service_request,
        "branch": service_request.branch,
        "customer": service_request.customer,
        "sections": receipt_sections(service_request),
        "progress_link": link,
        "submitted_at": timezone.localtime(service_request.submitted_at, zone)
        if service_request.submitted_at
        else None,
        "printed_at": timezone.localtime(timezone.now(), zone),
        "qr_svg": segno.make(link, error="m").svg_inline(scale=3),
    }


@login_required
@require_GET
def receipt_page(request, request_id: int):
    """The printable receipt (the browser prints it; the print style drops the buttons)."""
    service_request = _receipt_request(request, request_id)
    language = _language(request, service_request)
    with translation.override(language):
        response = render(
            request,
            "transactions/receipt.html",
            {**_context(request, service_request), "language": language},
        )
    response.headers["Content-Language"] = language
    return response


@login_required
@require_GET
def receipt_pdf(request, request_id: int):
    """The same receipt as a PDF (A4), to print or hand over by e-mail."""
    service_request = _receipt_request(request, request_id)
    language = _language(request, service_request)
    with translation.override(language):
        pdf = render_pdf(_context(request, service_request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{service_request.reference}.pdf"'
    response["Content-Language"] = language
    return response


def render_pdf(context: dict) -> bytes:
    """The receipt as PDF bytes, with reportlab (imported here: only this view needs it)."""
    import io

    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.lib.utils import escapeOnce
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    base = ParagraphStyle("base", fontName=PDF_FONT, fontSize=10, leading=14)
    title = ParagraphStyle("title", parent=base, fontSize=16, leading=22, spaceAfter=4)
    heading = ParagraphStyle("heading", parent=base, fontSize=11, leading=16, spaceBefore=8)
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.grey)

    def p(text, style=base):
        return Paragraph(escapeOnce(str(text)), style)

    def table(rows):
        grid = Table([[p(label), p(text)] for label, text in rows], colWidths=[55 * mm, 115 * mm])
        grid.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                    ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#4a5a70")),
                ]
            )
        )
        return grid

    service_request = context["service_request"]
    submitted = context["submitted_at"]
    story = [
        p(context["branch"].name, small),
        p(_("Receipt"), title),
        table(
            [
                (_("Reference"), service_request.reference),
                (_("Request"), service_request.request_type.name),
                (_("Customer"), context["customer"].full_name),
                (
                    _("Submitted"),
                    formats.date_format(submitted, "DATETIME_FORMAT") if submitted else "",
                ),
                (_("Status"), service_request.get_status_display()),
            ]
        ),
    ]
    for section_title, rows in context["sections"]:
        story += [p(section_title, heading), table(rows)]
    qr = QrCodeWidget(context["progress_link"])
    x1, y1, x2, y2 = qr.getBounds()
    size = 30 * mm
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(qr)
    story += [
        Spacer(1, 8 * mm),
        p(_("Follow the progress of your request at:"), base),
        p(context["progress_link"], small),
        drawing,
        Spacer(1, 4 * mm),
        p(
            _("Keep this receipt until your request is complete (printed %(when)s).")
            % {"when": formats.date_format(context["printed_at"], "DATETIME_FORMAT")},
            small,
        ),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{_('Receipt')} {service_request.reference}",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    ).build(story)
    return buffer.getvalue()
