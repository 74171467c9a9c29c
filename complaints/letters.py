"""Letters to the complainant: rendered from the pack's templates, kept with the case, sent.

A letter is rendered in the complainant's language from
``templates/complaints/letters/<folder>/<kind>.<language>.txt``, where the folder is the pack's
code, else its jurisdiction in lower case (a copied pack keeps its regulator's wording), else
``default``. The first line is ``Subject: ...``, the rest the body. The templates are data: the
regulators' wording in both languages is written there, not in gettext catalogues.

The letter is kept exactly as rendered (Letter) and goes out through notifications
(``complaints.letter``): by e-mail when the complainant has an address (a customer's consent to
e-mail counts), else a short SMS with the progress-page link, else it is marked for the post and
printed by the branch. A contact (not a customer) gave their address with the complaint for it
to be answered, which is their consent for these letters.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template import Context, Engine, TemplateDoesNotExist
from django.urls import reverse
from django.utils import timezone, translation

from bankservice.customers.validators import normalize_phone
from bankservice.events.services import record
from bankservice.notify.services import Contact, notification_send
from bankservice.sla.selectors import deadlines_for

from . import clocks, deadlines
from .models import (
    ClockMetBy,
    ComplaintStatus,
    Jurisdiction,
    Letter,
    LetterKind,
    LetterWording,
)

MESSAGE = "complaints.letter"
LANGUAGES = ("zh-hans", "en")
DEFAULT_FOLDER = "default"
SUBJECT_PREFIX = "Subject:"
# The currency of a redress when the complaint names none: the regulator's country's.
CURRENCY = {Jurisdiction.CN: "CNY", Jurisdiction.UK: "GBP", Jurisdiction.US: "USD"}
SMS = "sms"
EMAIL = "email"
POST = "post"
_BLANK_LINES = re.compile(r"\n{3,}")


def letter_language(complaint) -> str:
    """The complainant's language: the contact's (complaint.language) or the customer's
    preferred language; 'zh-hans' or 'en' (Simplified Chinese when unknown)."""
    language = complaint.language
    if not language and complaint.customer_id is not None:
        language = complaint.customer.preferred_language
    language = (language or "").lower()
    if language.startswith("en"):
        return "en"
    return "zh-hans"


def letter_render(*, complaint, kind: str, extension=None, language: str | None = None):
    """(subject, body) of the letter `kind` (LetterKind) for the complaint, from the template
    templates/complaints/letters/<pack code or jurisdiction>/<kind>.<language>.txt."""
    if kind not in LetterKind.values:
        raise ValueError(f"unknown letter kind {kind!r}")
    language = language if language in LANGUAGES else letter_language(complaint)
    template = _template(complaint.pack, kind, language)
    with translation.override(language):
        text = template.render(Context(_context(complaint, extension), autoescape=False))
    return _split(text)


def letter_send(*, actor, complaint, kind: str, extension=None) -> Letter:
    """Render, keep and send the letter; called inside the lifecycle's transactions (the
    notification goes out after commit). Returns the Letter."""
    language = letter_language(complaint)
    subject, body = letter_render(
        complaint=complaint, kind=kind, extension=extension, language=language
    )
    channel = letter_channel(complaint)
    with transaction.atomic():
        letter = Letter.objects.create(
            complaint=complaint,
            kind=kind,
            language=language,
            subject=subject[: Letter._meta.get_field("subject").max_length],
            body=body,
            channel=channel,
            extension=extension,
            sent_by=actor,
        )
        if channel != POST:
            letter.notification = _notify(letter, actor=actor)
            letter.save(update_fields=["notification"])
        record(
            type="complaints.letter_sent",
            actor=actor,
            branch=complaint.branch,
            customer=complaint.customer,
            subject=complaint,
            payload={
                "complaint_id": complaint.pk,
                "letter_id": letter.pk,
                "kind": kind,
                "channel": channel,
                "notification_id": letter.notification_id,
                "extension_id": extension.pk if extension is not None else None,
            },
        )
    return letter


def letter_channel(complaint) -> str:
    """email, sms or post: how a letter reaches the complainant (consent respected)."""
    customer = complaint.customer
    if customer is not None:
        if customer.email and customer.consent_email:
            return EMAIL
        if customer.phone and customer.consent_sms:
            return SMS
        return POST
    if complaint.contact_email:
        return EMAIL
    if _textable(complaint.contact_phone):
        return SMS
    # A contact's number as given at intake (not checked there): one that is no mobile number
    # gets the letter by post rather than failing the act that sends it.
    return POST


def _textable(phone: str) -> bool:
    try:
        normalize_phone(phone)
    except ValidationError:
        return False
    return True


def progress_url(complaint) -> str:
    """The complainant's progress page, absolute with RECEPTION_PUBLIC_BASE_URL (a worker has
    no request to take a host from); empty when that is not set."""
    base = settings.RECEPTION_PUBLIC_BASE_URL.rstrip("/")
    if not base:
        return ""
    return base + reverse("complaints_public:progress", args=[complaint.public_token])


# --- Rendering.


@cache
def _engine() -> Engine:
    # Plain text: no HTML escaping ("&" stays "&"); dates and numbers in the letter's language.
    return Engine(
        dirs=[str(d) for d in settings.TEMPLATES[0]["DIRS"]],
        app_dirs=True,
        autoescape=False,
        builtins=["django.templatetags.i18n", "django.templatetags.l10n"],
    )


def template_names(pack, kind: str, language: str) -> list[str]:
    """The templates tried, in order: the pack's folder, its jurisdiction's, the default."""
    folders = [pack.code, pack.jurisdiction.lower(), DEFAULT_FOLDER]
    return [
        f"complaints/letters/{folder}/{kind}.{language}.txt" for folder in dict.fromkeys(folders)
    ]


def _template(pack, kind: str, language: str):
    names = template_names(pack, kind, language)
    for name in names:
        try:
            return _engine().get_template(name)
        except TemplateDoesNotExist:
            continue
    raise TemplateDoesNotExist(", ".join(names))


def _split(text: str) -> tuple[str, str]:
    first, _newline, rest = text.strip().partition("\n")
    if not first.startswith(SUBJECT_PREFIX):
        raise ValueError("a letter template starts with 'Subject: ...'")
    # One line: a subject is a mail header.
    subject = " ".join(first[len(SUBJECT_PREFIX) :].split())
    # Optional template blocks leave runs of blank lines: one blank line between paragraphs.
    body = _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in rest.splitlines()))
    return subject, body.strip() + "\n"


def _context(complaint, extension) -> dict:
    """What the templates may use: ids, names, dates in the branch's zone, the decision."""
    zone = complaint.branch.zone
    pack = complaint.pack
    applicable = clocks.clocks_for(pack, payment_services=complaint.is_payment_services)
    wordings = {clock.letter_wording for clock in applicable}
    if extension is not None:
        wordings.add(extension.clock.letter_wording)
    customer = complaint.customer
    redress = complaint.redress_amount
    return {
        "complaint": complaint,
        "reference": complaint.reference,
        "complainant_name": customer.full_name if customer is not None else complaint.contact_name,
        "branch_name": complaint.branch.name,
        "branch_address": complaint.branch.address,
        "received_on": _day(complaint.received_at, zone),
        "sent_on": _day(timezone.now(), zone),
        "decided_on": _day(complaint.decided_at, zone),
        "outcome": complaint.status,
        "is_review": complaint.review_of_id is not None,
        "reasons": complaint.decision_reasons,
        "proposal": complaint.resolution_proposal,
        "redress_amount": redress if redress else None,
        "redress_currency": complaint.currency or CURRENCY.get(pack.jurisdiction, ""),
        "decision_due_on": _decision_due_on(complaint, zone),
        "review_by": _review_by(complaint, applicable, zone),
        "extension": extension,
        "extension_reason": extension.reason if extension is not None else "",
        "new_due_on": _day(extension.new_due_at, zone, end=True) if extension else None,
        "fos_referral": LetterWording.FOS_REFERRAL in wordings,
        "progress_url": progress_url(complaint),
        "resolved": complaint.status == ComplaintStatus.RESOLVED,
    }


def _day(moment: dt.datetime | None, zone, *, end: bool = False) -> dt.date | None:
    """The date of a moment on the branch's wall clock; with end=True a period that ends at
    24:00 (stored as 00:00 of the next day) is dated on its last day."""
    if moment is None:
        return None
    local = moment.astimezone(zone)
    if end and local.time() == dt.time(0):
        local -= dt.timedelta(days=1)
    return local.date()


def _decision_due_on(complaint, zone) -> dt.date | None:
    """The latest open (or already breached) clock met by a decision: when the answer is due."""
    due = [
        deadline.due_at
        for deadline in deadlines_for(complaint)
        if deadline.kind.startswith(deadlines.KIND_PREFIX)
        and deadline.state in ("open", "breached")
        and deadline.kind in _decision_kinds(complaint)
    ]
    return _day(max(due), zone, end=True) if due else None


def _decision_kinds(complaint) -> set[str]:
    return {
        deadlines.kind_for(clock)
        for clock in complaint.pack.clocks.all()
        if clock.met_by == ClockMetBy.DECISION and not clock.is_window
    }


def _review_by(complaint, applicable, zone) -> dt.date | None:
    """The last day to ask for a review (CN 核查): the review window from the decision."""
    if complaint.decided_at is None:
        return None
    for clock in applicable:
        if clock.met_by == ClockMetBy.REVIEW_REQUEST:
            calendar = clocks.pack_calendar(complaint.pack, branch=complaint.branch)
            due = clocks.due_at(clock, complaint.decided_at, calendar=calendar)
            return _day(due, zone, end=True)
    return None


# --- Sending.


def _notify(letter: Letter, *, actor):
    complaint = letter.complaint
    context = {
        "letter_kind": letter.kind,
        "complaint_reference": complaint.reference,
        "subject": letter.subject,
        "progress_url": progress_url(complaint),
    }
    if letter.channel == EMAIL:
        context["body"] = letter.body
    common = {
        "channel": letter.channel,
        "template": MESSAGE,
        "context": context,
        "dedupe_key": f"complaints:letter:{letter.pk}",
        "actor": actor,
        "branch": complaint.branch,
    }
    if complaint.customer_id is not None:
        return notification_send(customer=complaint.customer, **common)
    contact = Contact(
        name=complaint.contact_name,
        phone=complaint.contact_phone,
        email=complaint.contact_email,
        language=letter.language,
        consent_sms=bool(complaint.contact_phone),
        consent_email=bool(complaint.contact_email),
    )
    return notification_send(contact=contact, **common)


MESSAGE_SAMPLE = {
    "letter_kind": "acknowledgement",
    "complaint_reference": "CP261129000042",
    "subject": "We have received your complaint CP261129000042",
    # The letter's own greeting names the complainant (the e-mail is the letter as kept).
    "body": "Dear Chen Yi,\n\nLujiazui received your complaint on 29 November 2026.\n",
    "progress_url": "https://bank.example/c/abc/",
}
