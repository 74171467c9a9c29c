"""Sending satisfaction surveys: which events are sampled, the guards, the message with the link.

The generator (care/generator.py) calls `sampled()` and `survey_send()` for every event a survey
rule reacts to, in the same batch and transaction as the callbacks; the beat task
care.expire_surveys calls `surveys_expire()` every hour. Answering is care/survey_responses.py.

survey_send refuses (returns None) when the customer opted out of surveys (or of every care
contact), was surveyed within CARE_SURVEY_MIN_DAYS, the rule already acted on the event, or
there is no channel the customer accepts. A merged duplicate's survey goes to the survivor.

The message key "care.survey" (SMS and e-mail) is registered when this module is imported
(CareConfig.ready()); its templates are in care/templates/notify/care.survey/.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankservice.core.errors import BadInput
from bankservice.customers.models import Customer
from bankservice.customers.selectors import MAX_MERGE_HOPS
from bankservice.events.catalogue import register_event_labels
from bankservice.events.services import record
from bankservice.notify.registry import MessageType, register
from bankservice.notify.services import notification_send

from .models import OptOutScope, Survey, SurveyRule, SurveyStatus, Trigger
from .optouts import opted_out, reachable_by

logger = logging.getLogger(__name__)

MESSAGE = "care.survey"
# The public pages (care/survey_public_urls.py, at the site root: /s/<token>/ and its opt-out).
SURVEY_URL = "care_survey:survey"
OPT_OUT_URL = "care_survey:opt-out"
# Sent surveys expired per transaction by surveys_expire().
EXPIRE_BATCH = 1000
SURVEY_TRIGGERS = (
    Trigger.SERVICE_COMPLETED,
    Trigger.REQUEST_EXECUTED,
    Trigger.COMPLAINT_DECIDED,
    Trigger.CONSULTATION_CLOSED,
)

register(
    MessageType(
        MESSAGE,
        gettext_lazy(
            "To a customer after a service: the satisfaction survey's link, until when it is "
            "valid, and the link to stop surveys"
        ),
        required=("survey_url", "opt_out_url", "expires_on"),
        sample={
            "survey_url": "https://bank.example/s/abc/",
            "opt_out_url": "https://bank.example/s/abc/opt-out/",
            "expires_on": "2026-12-07",
        },
    )
)
register_event_labels({"care.survey_sent": gettext_lazy("Satisfaction survey sent")})


def public_url(name: str, token: str) -> str:
    """A survey page's address, absolute with RECEPTION_PUBLIC_BASE_URL (a worker has no
    request to take a host from); the bare path when that is not set (development)."""
    return settings.RECEPTION_PUBLIC_BASE_URL.rstrip("/") + reverse(name, args=[token])


def sampled(rule: SurveyRule, event_id: int) -> bool:
    """Whether the rule surveys the customer of this event: a hash of the rule's code and the
    event id, so a rerun (or a second worker) decides the same; 0% never, 100% always."""
    digest = hashlib.sha256(f"{rule.code}:{event_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < rule.sample_percent


def survey_channel(customer) -> str | None:
    """E-mail when the customer accepts it and has an address, else SMS likewise, else None."""
    return reachable_by(customer)[0] or None


def _survivor(customer) -> Customer:
    """The record in use, locked: a merged duplicate speaks for the one it was merged into.

    Who else locks the customer row: callback_create (the same guards-in-turn reason) and the
    customers app's own writes; we hold it until the batch commits."""
    for _hop in range(MAX_MERGE_HOPS):
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.merged_into_id is None:
            return locked
        customer = Customer(pk=locked.merged_into_id)
    return Customer.objects.select_for_update().get(pk=customer.pk)


def survey_send(
    *,
    rule: SurveyRule | None,
    customer,
    branch,
    trigger: str,
    source_event=None,
    service_code: str = "",
    staff=None,
    subject_ref: str = "",
    visit_id: int | None = None,
    now: dt.datetime | None = None,
) -> Survey | None:
    """Send a survey link to the customer (or the record it was merged into), or return None
    when a guard refuses: opted out of surveys or of every care contact, surveyed within
    CARE_SURVEY_MIN_DAYS, the rule already acted on the event, no channel the customer accepts.
    Queues the message (e-mail if allowed, else SMS) and records care.survey_sent."""
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise BadInput(_("Give the time with its time zone."), field="now")
    if trigger not in SURVEY_TRIGGERS:
        raise BadInput(_("Choose a valid trigger."), field="trigger")
    service_code = (service_code or "").strip()[: Survey._meta.get_field("service_code").max_length]
    subject_ref = (subject_ref or "")[: Survey._meta.get_field("subject_ref").max_length]
    expiry_days = rule.expiry_days if rule is not None else SurveyRule().expiry_days
    with transaction.atomic():
        customer = _survivor(customer)
        if opted_out(customer, OptOutScope.SURVEYS):
            return None
        if (
            rule is not None
            and source_event is not None
            and Survey.objects.filter(rule=rule, source_event=source_event).exists()
        ):
            return None
        since = now - dt.timedelta(days=settings.CARE_SURVEY_MIN_DAYS)
        if Survey.objects.filter(customer=customer, sent_at__gt=since).exists():
            return None
        channel = survey_channel(customer)
        if channel is None:
            return None
        survey = Survey(
            rule=rule,
            source_event=source_event,
            customer=customer,
            branch=branch,
            trigger=trigger,
            service_code=service_code,
            staff=staff,
            subject_ref=subject_ref,
            visit_id=visit_id,
            channel=channel,
            language=customer.preferred_language,
            sent_at=now,
            expires_at=now + dt.timedelta(days=expiry_days),
        )
        try:
            with transaction.atomic():
                survey.save(force_insert=True)
        except IntegrityError:  # the same (rule, event), committed meanwhile
            return None
        survey.notification = notification_send(
            customer=customer,
            channel=channel,
            template=MESSAGE,
            context={
                "survey_url": public_url(SURVEY_URL, survey.public_token),
                "opt_out_url": public_url(OPT_OUT_URL, survey.public_token),
                # The last day it can be answered, in the branch's time zone.
                "expires_on": f"{survey.expires_at.astimezone(branch.zone):%Y-%m-%d}",
            },
            dedupe_key=f"care.survey:{survey.pk}",
            branch=branch,
        )
        survey.save(update_fields=["notification"])
        record(
            type="care.survey_sent",
            actor=None,
            branch=branch,
            customer=customer,
            subject=survey,
            payload={
                "survey_id": survey.pk,
                "rule": rule.code if rule is not None else "",
                "trigger": trigger,
                "service": service_code,
                "channel": channel,
            },
        )
    return survey


def surveys_expire(now: dt.datetime | None = None, *, batch: int = EXPIRE_BATCH) -> int:
    """Sent surveys whose link has passed its expiry become expired, `batch` per transaction;
    returns how many. Rows being answered right now (locked by survey_answer) are skipped and
    left to that answer or to the next run."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            ids = list(
                Survey.objects.filter(status=SurveyStatus.SENT, expires_at__lte=now)
                .order_by("expires_at", "id")
                .select_for_update(skip_locked=True)
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                break
            expired += Survey.objects.filter(pk__in=ids, status=SurveyStatus.SENT).update(
                status=SurveyStatus.EXPIRED
            )
        if len(ids) < batch:
            break
    return expired
