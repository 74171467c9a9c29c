"""A hand-built set of complaints for the report and export tests, made through the services.

Received relative to now (the regulator's 15-day decision clock moves at most about a week past a
holiday, so the margins below hold on any date), on the bank's default CN pack:

    name  branch  category  channel  product  received  what happened          outcome   cause
    a1    a01     card      counter  debit    40 d ago  decided now (upheld)   late      staff
    a2    a01     card      phone    debit     5 d ago  decided now (rejected) within    staff
    a3    a01     charges   counter  -         2 d ago  open                   pending   system
    a4    b01     card      counter  -        30 d ago  open, past due         late      -
    a5    w01     charges   phone    -        10 d ago  withdrawn now          within    staff
    a6    a01     card      counter  -         3 d ago  merged into a2         (left out)
    a7    a01     card      counter  -        70 d ago  open (before the period)
    a8    b01     card      phone    -        28 d ago  withdrawn after due    late      -

The period is the last 60 days, today included.
"""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from bankservice.customers.models import Product
from complaints import services
from complaints.models import Category, RootCause
from tests.factories import CustomerFactory


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def period() -> tuple[dt.date, dt.date]:
    import zoneinfo

    today = timezone.now().astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()
    return today - dt.timedelta(days=60), today


@pytest.fixture
def hq(make_staff):
    """Head office: takes, handles and reports on complaints at every branch."""
    return make_staff("hq_manager", username="hq")


@pytest.fixture
def report_set(cn_pack, hq, branch_a, branch_b, branch_other_region, complainant):
    card = Category.objects.get(code="card")
    charges = Category.objects.get(code="charges")
    debit = Product.objects.create(
        code="debit", family="cards", name_zh="借记卡", name_en="Debit card"
    )
    staff_cause = RootCause.objects.filter(is_active=True).order_by("code")[0]
    system_cause = RootCause.objects.filter(is_active=True).order_by("code")[1]

    def make(branch, category, channel, days, **extra):
        return services.complaint_create(
            actor=hq,
            branch=branch,
            channel=channel,
            category=category,
            description="Hand-built complaint for the report.",
            received_at=days_ago(days),
            customer=extra.pop("customer", complainant),
            **extra,
        )

    def cause(complaint, root_cause):
        return services.complaint_set_root_cause(
            actor=hq, complaint=complaint, root_cause=root_cause, note="Analysed."
        )

    other = CustomerFactory(home_branch=branch_b)
    west = CustomerFactory(home_branch=branch_other_region)
    a1 = make(branch_a, card, "counter", 40, product=debit)
    a2 = make(branch_a, card, "phone", 5, product=debit)
    a3 = make(branch_a, charges, "counter", 2)
    a4 = make(branch_b, card, "counter", 30, customer=other)
    a5 = make(branch_other_region, charges, "phone", 10, customer=west)
    a6 = make(branch_a, card, "counter", 3)
    a7 = make(branch_a, card, "counter", 70, customer=CustomerFactory(home_branch=branch_a))
    a8 = make(branch_b, card, "phone", 28, customer=other)

    services.complaint_merge(actor=hq, complaint=a6, into=a2)
    a1 = services.complaint_decide(
        actor=hq,
        complaint=a1,
        outcome="upheld",
        reasons="The ATM kept the card.",
        redress_amount="100.00",
        send_letter=False,
    )
    a2 = services.complaint_decide(
        actor=hq, complaint=a2, outcome="rejected", reasons="Charged correctly.", send_letter=False
    )
    a1, a2, a3 = cause(a1, staff_cause), cause(a2, staff_cause), cause(a3, system_cause)
    a5 = cause(a5, staff_cause)
    a5 = services.complaint_withdraw(actor=hq, complaint=a5, note="Sorted out.")
    a8 = services.complaint_withdraw(actor=hq, complaint=a8, note="Sorted out.")
    return {
        "a1": a1,
        "a2": a2,
        "a3": a3,
        "a4": a4,
        "a5": a5,
        "a6": a6,
        "a7": a7,
        "a8": a8,
        "staff_cause": staff_cause,
        "system_cause": system_cause,
        "period": period(),
    }
