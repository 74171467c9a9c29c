"""Many staff acting at once on one branch (PostgreSQL, threads with their own connections).

Already covered elsewhere, not repeated here: tellers calling "next" on one queue
(tests/reception/test_concurrency.py: 32 counters, every ticket exactly once, one ticket per
counter), approvers deciding one request (tests/transactions/test_concurrency.py), complaint
officers taking and deciding one complaint (tests/complaints/test_lifecycle_concurrency.py),
care agents claiming one callback (tests/care/test_concurrency.py), two consultation closes
(tests/consultation/desk/test_concurrency.py) and two tellers saving different fields of one
customer (tests/customers/test_concurrency.py).

Here: greeters issuing while tellers call on the same queue; an agent closing a callback while
the team lead cancels it; and two people editing one record from the same copy — a customer
record and a consultation — where the optimistic version check refuses the second save
(form error / API 409) instead of letting it overwrite the first one's change.
"""

# The fixtures imported from callback_fixtures reappear as test arguments.
# ruff: noqa: F811

import datetime as dt
import itertools
import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.core.errors import Conflict
from bankservice.customers.models import Customer
from bankservice.customers.services import customer_update
from bankservice.events.models import Event
from bankservice.sla.models import Deadline
from care.models import Callback, CallbackStatus
from care.services import callback_attempt, callback_cancel, callback_claim, callback_complete
from consultation.models import Consultation
from consultation.services import consultation_start, consultation_update
from reception.models import AT_COUNTER_STATES, Counter, Ticket, TicketStatus, VisitSource
from reception.services import (
    counter_sign_in,
    ticket_call_next,
    ticket_complete,
    ticket_issue,
    ticket_start,
)
from tests.care.callback_fixtures import (  # noqa: F401 (fixtures)
    _care_registered,
    customer,
    make_callback,
    now,
)
from tests.concurrency import run_together
from tests.conftest import requires_postgres
from tests.factories import CustomerFactory
from tests.reception.factories import CounterFactory, ServiceTypeFactory

# serialized_rollback: the flush between transactional tests would drop the role groups that
# a data migration created.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

User = get_user_model()
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Wednesday, 10:00 in Shanghai: branch A (Mon–Fri 09:00–17:00) is open.
OPEN_AT = dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)
STALE_TEXT = "changed this"  # in both the customer's and the consultation's message


def _post_data(form) -> dict:
    """What a browser would post back from the (unbound) form as rendered."""
    data = {}
    for bound in form:
        value = bound.value()
        if value is None or value is False or value == "":
            continue
        if value is True:
            value = "on"
        elif isinstance(value, list | tuple):
            value = [getattr(item, "pk", item) for item in value]
        data[bound.html_name] = value
    return data


# -- a busy queue: issuing and calling at the same time ---------------------------------------


def test_greeters_issuing_while_tellers_call_serve_every_ticket_once(branch_a, make_staff):
    greeters, tellers, per_greeter = 4, 4, 10
    total = greeters * per_greeter
    cash = ServiceTypeFactory(branch=branch_a, code="cash", prefix="A")
    pairs = []
    for number in range(1, tellers + 1):
        counter = CounterFactory(branch=branch_a, number=number, services=[cash])
        teller = make_staff(Role.TELLER, branch=branch_a, username=f"teller-{number}")
        counter_sign_in(actor=teller, counter=counter)
        pairs.append((counter.pk, teller.pk))
    seconds = itertools.count()

    def greeter():
        return [
            ticket_issue(
                actor=None,
                service_type=cash,
                source=VisitSource.GREETER,
                now=OPEN_AT + dt.timedelta(seconds=next(seconds)),
            ).pk
            for _ in range(per_greeter)
        ]

    def teller_at(counter_pk, teller_pk):
        def work():
            actor, counter = User.objects.get(pk=teller_pk), Counter.objects.get(pk=counter_pk)
            call_at = OPEN_AT + dt.timedelta(hours=1)
            served, held_two = [], False
            # Bounded: a teller keeps calling until the whole day's tickets are done.
            for _attempt in range(50 * total):
                ticket = ticket_call_next(actor=actor, counter=counter, now=call_at)
                if ticket is None:
                    if Ticket.objects.filter(status=TicketStatus.COMPLETED).count() == total:
                        break
                    continue
                held = Ticket.objects.filter(counter_id=counter_pk, status__in=AT_COUNTER_STATES)
                held_two = held_two or held.count() != 1
                ticket_start(actor=actor, ticket=ticket, now=call_at)
                ticket_complete(actor=actor, ticket=ticket, outcome="done", now=call_at)
                served.append(ticket.pk)
            return served, held_two

        return work

    results = run_together(
        *(greeter for _ in range(greeters)), *(teller_at(c, t) for c, t in pairs), timeout=120
    )

    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    issued = [pk for r in results[:greeters] for pk in r]
    served = [pk for served, _held in results[greeters:] for pk in served]
    assert len(issued) == total and len(set(issued)) == total
    assert sorted(served) == sorted(issued)  # each ticket called and served exactly once
    assert not any(held_two for _served, held_two in results[greeters:])
    numbers = Ticket.objects.values_list("number", flat=True)
    assert len(set(numbers)) == total  # no ticket number handed out twice
    called = Event.objects.filter(type="reception.ticket_called")
    assert called.count() == total
    assert len(set(called.values_list("subject_id", flat=True))) == total


# -- care: the agent closing while the team lead cancels ------------------------------------


@pytest.mark.parametrize("agent_closes_with", ["complete", "wrong_number"])
def test_agent_closing_while_the_lead_cancels_one_outcome_stands(
    make_callback, make_staff, branch_a, agent_closes_with
):
    agent = make_staff(Role.CARE_AGENT, branch=branch_a, username="agent")
    lead = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="lead")
    callback = make_callback()
    callback_claim(actor=agent, callback=callback)
    if agent_closes_with == "complete":
        callback_attempt(actor=agent, callback=callback, channel="phone", result="reached")

    def agent_closes():
        fresh = Callback.objects.get(pk=callback.pk)
        if agent_closes_with == "complete":
            return callback_complete(actor=agent, callback=fresh, outcome="Helped", satisfaction=5)
        return callback_attempt(actor=agent, callback=fresh, channel="phone", result="wrong_number")

    def lead_cancels():
        fresh = Callback.objects.get(pk=callback.pk)
        return callback_cancel(actor=lead, callback=fresh, reason="Customer visited the branch")

    results = run_together(agent_closes, lead_cancels)

    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(lost) == 1, results
    stored = Callback.objects.get(pk=callback.pk)
    if isinstance(results[0], Conflict):  # the lead was first: the agent finds it cancelled
        assert stored.status == CallbackStatus.CANCELLED
        assert stored.outcome == "Customer visited the branch"
    else:
        assert stored.status in {CallbackStatus.DONE, CallbackStatus.UNREACHABLE}
        assert not Event.objects.filter(type="care.callback_cancelled").exists()
    assert stored.closed_at is not None
    # One close: the deadline ended once, and no second close event was written.
    closes = (
        Event.objects.filter(
            type__in=["care.callback_cancelled", "care.callback_completed"]
        ).count()
        + Event.objects.filter(
            type="care.callback_attempted", payload__result="wrong_number"
        ).count()
    )
    assert closes == 1
    assert Deadline.objects.filter(state="open").count() == 0


# -- two people editing one customer record from the same copy ------------------------------


def test_two_tellers_saving_the_same_copy_of_a_customer_one_is_refused(make_staff, branch_a):
    customer = CustomerFactory(home_branch=branch_a, segment="standard", email="")
    one, two = (make_staff(Role.TELLER, branch=branch_a, username=f"e{i}") for i in range(2))
    read = Customer.objects.get(pk=customer.pk)  # both opened the form on this copy
    full_form = {f: getattr(read, f) for f in ("full_name", "segment", "email", "home_branch")}

    results = run_together(
        lambda: customer_update(
            actor=one,
            customer=read,
            data={**full_form, "segment": "priority"},
            version=read.version,
        ),
        lambda: customer_update(
            actor=two,
            customer=read,
            data={**full_form, "email": "chen@example.cn"},
            version=read.version,
        ),
    )

    saved = [r for r in results if isinstance(r, Customer)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(saved), len(refused)) == (1, 1), results
    assert refused[0].field == "version" and STALE_TEXT in str(refused[0].message)
    stored = Customer.objects.get(pk=customer.pk)
    # The winner's change is kept whole; the loser's older copy overwrote nothing.
    assert (stored.segment, stored.email) in {("priority", ""), ("standard", "chen@example.cn")}
    assert (stored.segment, stored.email) == (saved[0].segment, saved[0].email)
    assert stored.version == read.version + 1
    assert Event.objects.filter(type="customer.updated").count() == 1


def _open_customer_form(client, user, customer):
    client.force_login(user)
    response = client.get(reverse("customers:edit", args=[customer.pk]))
    assert response.status_code == 200
    return _post_data(response.context["form"])


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_customer_form_saved_from_a_stale_copy_says_so(
    client, make_staff, branch_a, language, settings
):
    customer = CustomerFactory(home_branch=branch_a, segment="standard")
    one, two = (make_staff(Role.TELLER, branch=branch_a, username=f"f{i}") for i in range(2))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    first = _open_customer_form(client, one, customer)
    second = _open_customer_form(client, two, customer)
    assert first["version"] == second["version"] == customer.version

    client.force_login(one)
    response = client.post(
        reverse("customers:edit", args=[customer.pk]), {**first, "segment": "priority"}
    )
    assert response.status_code == 302, response.context["form"].errors
    client.force_login(two)
    response = client.post(
        reverse("customers:edit", args=[customer.pk]), {**second, "email": "late@example.cn"}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["version"]
    html = response.content.decode()
    assert str(errors["version"][0]) in html  # shown on the page, in the page's language
    if language == "en":
        assert STALE_TEXT in html
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.segment, stored.email) == ("priority", customer.email)
    assert stored.version == customer.version + 1
    # Reloading gives the current version, and saving from it works.
    fresh = _open_customer_form(client, two, customer)
    assert fresh["segment"] == "priority" and fresh["version"] == stored.version
    response = client.post(
        reverse("customers:edit", args=[customer.pk]), {**fresh, "email": "late@example.cn"}
    )
    assert response.status_code == 302
    stored.refresh_from_db()
    assert (stored.segment, stored.email) == ("priority", "late@example.cn")


def test_the_customer_api_refuses_a_stale_version_with_409(api, make_staff, branch_a):
    customer = CustomerFactory(home_branch=branch_a, segment="standard")
    teller = make_staff(Role.TELLER, branch=branch_a, username="api-teller")
    api.force_authenticate(teller)
    url = f"/api/v1/customers/{customer.pk}"
    read = api.get(url).json()
    assert read["version"] == 1

    first = api.patch(url, {"segment": "priority", "version": read["version"]}, format="json")
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = api.patch(url, {"email": "late@example.cn", "version": read["version"]}, format="json")

    assert stale.status_code == 409
    assert list(stale.json()) == ["version"] and STALE_TEXT in stale.json()["version"][0]
    assert Customer.objects.get(pk=customer.pk).email == customer.email
    # Without a version there is no check (clients that do not send one keep working).
    assert api.patch(url, {"email": "late@example.cn"}, format="json").json()["version"] == 3
    assert api.patch(url, {"version": 0}, format="json").status_code == 400


# -- the advisor and the branch manager editing one consultation ----------------------------


@pytest.fixture
def desk(make_staff, branch_a):
    advisor = make_staff(Role.ADVISOR, branch=branch_a, username="advisor")
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager")
    consultation = consultation_start(
        actor=advisor, channel="phone", branch=branch_a, contact_name="Li Lei", question="Rates?"
    )
    return advisor, manager, consultation


def test_advisor_and_manager_saving_the_same_copy_one_is_refused(desk):
    advisor, manager, consultation = desk
    version = Consultation.objects.get(pk=consultation.pk).version

    results = run_together(
        lambda: consultation_update(
            actor=advisor,
            consultation=consultation.pk,
            data={"question": "Rates?", "notes": "Advisor's notes"},
            version=version,
        ),
        lambda: consultation_update(
            actor=manager,
            consultation=consultation.pk,
            data={"question": "Deposit rates for 3 years?", "notes": ""},
            version=version,
        ),
    )

    saved = [r for r in results if isinstance(r, Consultation)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(saved), len(refused)) == (1, 1), results
    assert refused[0].field == "version"
    stored = Consultation.objects.get(pk=consultation.pk)
    assert (stored.question, stored.notes) == (saved[0].question, saved[0].notes)
    assert stored.version == version + 1
    assert Event.objects.filter(type="consultation.updated").count() == 1


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_consultation_form_saved_from_a_stale_copy_says_so(client, desk, language, settings):
    advisor, manager, consultation = desk
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    detail = reverse("consultation:detail", args=[consultation.pk])
    edit = reverse("consultation:edit", args=[consultation.pk])
    forms = {}
    for user in (advisor, manager):
        client.force_login(user)
        forms[user] = _post_data(client.get(detail).context["form"])
    assert forms[advisor]["version"] == forms[manager]["version"] == 1

    client.force_login(advisor)
    assert client.post(edit, {**forms[advisor], "notes": "Quoted 2.1%"}).status_code == 302
    client.force_login(manager)
    response = client.post(edit, {**forms[manager], "question": "Deposit rates?"})

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["version"]
    html = response.content.decode()
    assert str(errors["version"][0]) in html
    if language == "en":
        assert STALE_TEXT in html
    stored = Consultation.objects.get(pk=consultation.pk)
    assert (stored.question, stored.notes, stored.version) == ("Rates?", "Quoted 2.1%", 2)


def test_the_consultation_api_refuses_a_stale_version_with_409(api, desk):
    advisor, manager, consultation = desk
    url = f"/api/v1/consultations/{consultation.pk}"
    api.force_authenticate(advisor)
    read = api.get(url).json()
    assert read["version"] == 1
    assert api.patch(url, {"notes": "A", "version": 1}, format="json").json()["version"] == 2

    api.force_authenticate(manager)
    stale = api.patch(url, {"notes": "B", "version": 1}, format="json")

    assert stale.status_code == 409
    assert list(stale.json()) == ["version"] and STALE_TEXT in stale.json()["version"][0]
    assert Consultation.objects.get(pk=consultation.pk).notes == "A"
    # A change that changes nothing leaves the version as it is.
    same = api.patch(url, {"notes": "A", "version": 2}, format="json")
    assert same.status_code == 200 and same.json()["version"] == 2
