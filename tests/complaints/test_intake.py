"""Complaint intake: the pack's clocks start as deadlines on receipt, validation, repeats, event."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from bankservice.core.errors import BadInput
from bankservice.customers.models import Product
from bankservice.events.models import Event
from bankservice.sla.models import Deadline
from bankservice.sla.policies import handlers_for
from bankservice.sla.selectors import deadlines_for
from bankservice.sla.services import deadline_sweep
from complaints import clocks
from complaints.models import Category, Channel, Complaint, ComplaintStatus
from complaints.services import complaint_create, pack_assign
from tests.factories import CustomerFactory

from .conftest import LONDON, SHANGHAI, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _after_the_examples(time_machine):
    # The examples are received in 2026; "now" is after them, so none is in the future.
    time_machine.move_to(dt.datetime(2026, 12, 1, tzinfo=dt.UTC), tick=False)
    with translation.override("en"):
        yield


@pytest.fixture
def officer(make_staff):
    # Takes complaints at every branch (complaints.add_complaint across the bank).
    return make_staff("complaint_officer", username="officer")


@pytest.fixture
def cards():
    return Category.objects.get(code="card")


@pytest.fixture
def credit_card(db):
    return Product.objects.create(
        code="credit-card", family="card", name_zh="信用卡", name_en="Card"
    )


@pytest.fixture
def uk_branch(uk_pack, london_branch):
    pack_assign(pack=uk_pack, branch=london_branch, actor=None)
    return london_branch


def create(branch, actor, **kwargs):
    values = {
        "channel": Channel.COUNTER,
        "category": Category.objects.get(code="card"),
        "description": "Charged twice for one purchase.",
        "customer": CustomerFactory(home_branch=branch),
        **kwargs,
    }
    return complaint_create(actor=actor, branch=branch, **values)


def clock_due(complaint) -> dict:
    return {d.kind: (d.due_at, d.warn_at, d.clock) for d in deadlines_for(complaint).order_by("id")}


def test_the_shipped_taxonomy_follows_the_regulators_categories():
    top = dict(Category.objects.filter(parent=None).values_list("code", "name_zh"))
    assert {top[c] for c in ("loan", "card", "deposit", "wealth", "payment")} == {
        "贷款",
        "银行卡",
        "存款",
        "理财",
        "支付结算",
    }
    assert top["personal-info"] == "个人金融信息"
    assert top["service"] == "服务态度与质量"
    fraud = Category.objects.get(code="card-fraud")
    assert (fraud.parent.code, fraud.regulator_code) == ("card", "cbirc-card")


def test_a_cn_complaint_starts_the_decision_clock_past_national_day(
    cn_pack, cn_branch, officer, cards, credit_card
):
    # Thursday 17 September: day 15 is 2 October (National Day, off 1–7 October), so the
    # decision is due by the end of Thursday 8 October (docs/complaint-clocks.md).
    received = at(SHANGHAI, 2026, 9, 17, 10)
    complaint = create(cn_branch, officer, received_at=received, product=credit_card)

    complaint.refresh_from_db()
    assert complaint.pack == cn_pack
    assert complaint.status == ComplaintStatus.RECEIVED
    assert complaint.reference == f"CP260917{complaint.pk:06d}"
    assert complaint.created_by == officer
    (kind,) = clock_due(complaint)  # the extensions and review clocks start later
    assert kind == "complaint.decision"
    deadline = deadlines_for(complaint).get()
    assert deadline.due_at == at(SHANGHAI, 2026, 10, 9)
    assert deadline.started_at == received
    assert deadline.clock == "calendar_days"
    assert deadline.branch == cn_branch
    # The same as the pack arithmetic, warning included.
    clock = cn_pack.clocks.get(code="decision")
    calendar = clocks.pack_calendar(cn_pack, branch=cn_branch)
    assert deadline.due_at == clocks.due_at(clock, received, calendar=calendar)
    assert deadline.warn_at == clocks.warn_at(clock, received, calendar=calendar)
    assert deadline.warn_at is not None


def test_a_cn_complaint_received_on_30_september_is_due_at_the_end_of_15_october(
    cn_pack, cn_branch, officer
):
    # Day 15 is Thursday 15 October, a working day: nothing moves.
    complaint = create(cn_branch, officer, received_at=at(SHANGHAI, 2026, 9, 30, 16))
    assert deadlines_for(complaint).get().due_at == at(SHANGHAI, 2026, 10, 16)


def test_a_uk_payment_services_complaint_starts_the_psd_clocks_not_the_eight_weeks(
    uk_branch, officer
):
    # Wednesday 1 April 2026; Good Friday 3 and Easter Monday 6 April are not business days.
    complaint = create(
        uk_branch, officer, received_at=at(LONDON, 2026, 4, 1, 11), is_payment_services=True
    )

    due = clock_due(complaint)
    assert set(due) == {
        "complaint.acknowledge",
        "complaint.summary_resolution",
        "complaint.psd_final_response",
    }
    assert due["complaint.summary_resolution"][0] == at(LONDON, 2026, 4, 9)
    assert due["complaint.psd_final_response"][0] == at(LONDON, 2026, 4, 25)
    assert due["complaint.psd_final_response"][2] == "business_days"


def test_a_uk_complaint_outside_payment_services_starts_the_eight_weeks_not_the_psd_clocks(
    uk_branch, officer
):
    complaint = create(uk_branch, officer, received_at=at(LONDON, 2026, 4, 1, 11))

    due = clock_due(complaint)
    assert set(due) == {
        "complaint.acknowledge",
        "complaint.summary_resolution",
        "complaint.final_response",
    }
    # 56 days after 1 April: by the end of Wednesday 27 May.
    assert due["complaint.final_response"][0] == at(LONDON, 2026, 5, 28)


def test_the_sweep_warns_then_breaches_a_complaint_clock_through_its_handlers(
    cn_pack, cn_branch, officer
):
    complaint = create(cn_branch, officer, received_at=at(SHANGHAI, 2026, 9, 17, 10))
    deadline = deadlines_for(complaint).get()
    assert handlers_for("complaint.psd_extended_final_response") is not None

    assert deadline_sweep(now=deadline.warn_at).warned == 1
    assert deadline_sweep(now=deadline.due_at).breached == 1

    # Warned, then (first breach of an open complaint) escalated to the branch manager; the
    # handlers' details are tested in test_escalation.py.
    events = [
        (e.type, e.payload["deadline_id"], e.payload["complaint_id"])
        for e in Event.objects.filter(
            type__in=["complaints.clock_warned", "complaints.complaint_escalated"]
        ).order_by("id")
    ]
    assert events == [
        ("complaints.clock_warned", deadline.pk, complaint.pk),
        ("complaints.complaint_escalated", deadline.pk, complaint.pk),
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        # A non-customer needs a name and a way to be reached.
        ({"customer": None, "contact_phone": "+86 139 0000 0000"}, "contact_name"),
        ({"customer": None, "contact_name": "Li Lei"}, "contact_phone"),
        ({"customer": None, "contact_name": "Li Lei", "contact_email": "nope"}, "contact_email"),
        # A customer's complaint does not take a second identity.
        ({"contact_name": "Li Lei"}, "contact_name"),
        ({"channel": "fax"}, "channel"),
        ({"description": "   "}, "description"),
        ({"amount": Decimal("12.345"), "currency": "CNY"}, "amount"),
        ({"amount": Decimal("-1"), "currency": "CNY"}, "amount"),
        ({"amount": Decimal("100"), "currency": ""}, "currency"),
        ({"currency": "CNY"}, "amount"),
        ({"received_at": dt.datetime(2026, 9, 17, 10)}, "received_at"),  # noqa: DTZ001
        ({"received_at": at(SHANGHAI, 2027, 1, 1)}, "received_at"),  # in the future
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(cn_pack, cn_branch, officer, kwargs, field):
    values = {"received_at": at(SHANGHAI, 2026, 9, 17, 10), **kwargs}
    with pytest.raises(BadInput) as refused:
        create(cn_branch, officer, **values)
    assert refused.value.field == field
    assert not Complaint.objects.exists()
    assert not Deadline.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"customer": None},  # nobody to answer
        {"contact_name": "Li Lei", "contact_phone": "+86 139 0000 0000"},  # two identities
        {"amount": Decimal("1.00")},  # no currency
        {"is_repeat": True},  # a repeat of nothing
    ],
)
def test_the_database_refuses_impossible_complaints(cn_pack, cn_branch, officer, change):
    complaint = create(cn_branch, officer, received_at=at(SHANGHAI, 2026, 9, 17, 10))
    with pytest.raises(IntegrityError), transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(**change)


def test_categories_must_match(cn_pack, cn_branch, officer, cards):
    received = at(SHANGHAI, 2026, 9, 17, 10)
    fraud = Category.objects.get(code="card-fraud")
    with pytest.raises(BadInput) as refused:
        create(cn_branch, officer, received_at=received, category=fraud)
    assert refused.value.field == "category"
    with pytest.raises(BadInput) as refused:
        create(
            cn_branch,
            officer,
            received_at=received,
            subcategory=Category.objects.get(code="loan-consumer"),
        )
    assert refused.value.field == "subcategory"
    complaint = create(cn_branch, officer, received_at=received, category=cards, subcategory=fraud)
    assert complaint.subcategory == fraud


def test_a_contact_who_is_not_a_customer(cn_pack, cn_branch, officer):
    complaint = create(
        cn_branch,
        officer,
        customer=None,
        contact_name=" Li Lei ",
        contact_email="li@example.com",
        received_at=at(SHANGHAI, 2026, 9, 17, 10),
        amount=Decimal("199.00"),
        currency="cny",
    )
    complaint.refresh_from_db()
    assert (complaint.customer, complaint.contact_name) == (None, "Li Lei")
    assert (complaint.amount, complaint.currency) == (Decimal("199.00"), "CNY")
    assert not complaint.is_repeat  # repeats are per customer


def test_a_repeat_is_flagged_within_the_window_and_not_after_it(
    cn_pack, cn_branch, officer, credit_card, settings
):
    settings.COMPLAINTS_REPEAT_DAYS = 30
    customer = CustomerFactory(home_branch=cn_branch)
    first = create(
        cn_branch,
        officer,
        customer=customer,
        product=credit_card,
        received_at=at(SHANGHAI, 2026, 3, 1),
    )
    # 31 days later: outside the window.
    second = create(
        cn_branch,
        officer,
        customer=customer,
        product=credit_card,
        received_at=at(SHANGHAI, 2026, 4, 1),
    )
    # 30 days after the second: a repeat of it (the latest), not of the first.
    third = create(
        cn_branch,
        officer,
        customer=customer,
        product=credit_card,
        received_at=at(SHANGHAI, 2026, 5, 1),
    )
    # Another product, or another customer, is no repeat.
    other_product = Product.objects.create(
        code="mortgage", family="mortgage", name_zh="房贷", name_en="Mortgage"
    )
    fourth = create(
        cn_branch,
        officer,
        customer=customer,
        product=other_product,
        received_at=at(SHANGHAI, 2026, 5, 2),
    )
    fifth = create(cn_branch, officer, product=credit_card, received_at=at(SHANGHAI, 2026, 5, 2))

    assert (first.is_repeat, first.repeat_of) == (False, None)
    assert (second.is_repeat, second.repeat_of) == (False, None)
    assert (third.is_repeat, third.repeat_of) == (True, second)
    assert not fourth.is_repeat
    assert not fifth.is_repeat


def test_the_receipt_is_recorded_with_ids_only(cn_pack, cn_branch, officer, cards, credit_card):
    complaint = create(
        cn_branch,
        officer,
        product=credit_card,
        received_at=at(SHANGHAI, 2026, 9, 17, 10),
        description="My card number 6222 0000 0000 0000 was charged twice.",
    )

    event = Event.objects.get(type="complaints.complaint_received")
    assert (event.actor_user, event.branch, event.customer) == (
        officer,
        cn_branch,
        complaint.customer,
    )
    assert event.subject_id == str(complaint.pk)
    (deadline,) = deadlines_for(complaint)
    assert event.payload == {
        "complaint_id": complaint.pk,
        "pack_id": cn_pack.pk,
        "category_id": cards.pk,
        "subcategory_id": None,
        "product_id": credit_card.pk,
        "channel": "counter",
        "repeat_of_id": None,
        "deadline_ids": [deadline.pk],
    }
    assert Event.objects.filter(type="deadline.started", subject_id=str(deadline.pk)).exists()


def test_intake_fails_without_any_pack(cn_branch, officer):
    from complaints.models import PackAssignment

    PackAssignment.objects.all().delete()
    with pytest.raises(BadInput) as refused:
        create(cn_branch, officer, received_at=at(SHANGHAI, 2026, 9, 17, 10))
    assert refused.value.field == "branch"


def test_query_budget(uk_branch, officer, credit_card, django_assert_max_num_queries):
    customer = CustomerFactory(home_branch=uk_branch)
    category = Category.objects.get(code="card")
    create(uk_branch, officer, customer=customer, received_at=at(LONDON, 2026, 3, 2, 11))
    # 5 for the pack, repeat check, insert, reference and clocks; per clock (3 here) the pack
    # calendar's exception days and the kernel's start (savepoints, deadline, event): 28 in all.
    with django_assert_max_num_queries(28):
        complaint = complaint_create(
            actor=officer,
            branch=uk_branch,
            channel=Channel.PHONE,
            category=category,
            description="Charged twice.",
            customer=customer,
            product=credit_card,
            received_at=at(LONDON, 2026, 4, 1, 11),
        )
    assert deadlines_for(complaint).count() == 3
