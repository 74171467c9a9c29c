"""The callback generator: each trigger and its match code, when the callback falls due (business
days on the branch calendar, hours, quiet hours), the guards through callback_create, reruns,
restarts and two workers at once, the wait on an event id gap, and the consultation hand-off."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.db import connection, transaction

from bankservice.events.models import Event
from bankservice.events.services import record
from bankservice.events.stream import stream_position
from care.generator import callbacks_generate
from care.models import (
    Callback,
    CallbackStatus,
    CareCursor,
    DelayUnit,
    FollowUpRule,
    SurveyRule,
    Trigger,
)
from tests.concurrency import run_together
from tests.conftest import requires_postgres
from tests.factories import CustomerFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, 10:00 in Shanghai (the test branches' zone; weekend Sat-Sun, no holidays).
MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _only_test_rules_and_new_events(db):
    shipped_active = set(FollowUpRule.objects.filter(is_active=True).values_list("code", flat=True))
    # The shipped rules stay in the database; the tests make their own and read them alone
    # (survey rules too: tests/care/test_survey_sending.py covers those).
    FollowUpRule.objects.update(is_active=False)
    SurveyRule.objects.update(is_active=False)
    # The generator follows the events from here (PostgreSQL's sequence does not go back when an
    # earlier test rolls back: those ids would be a gap to wait on).
    CareCursor.objects.update_or_create(
        name="callbacks", defaults={"last_event_id": stream_position()}
    )
    return shipped_active


@pytest.fixture
def customer(branch_a):
    return CustomerFactory(home_branch=branch_a, consent_phone=True)


def make_rule(code="r", *, trigger=Trigger.SERVICE_COMPLETED, **values):
    defaults = {
        "name_zh": "回访",
        "name_en": "Follow-up",
        "delay": 2,
        "delay_unit": DelayUnit.BUSINESS_DAYS,
        "reason_code": code,
        "script": "Ask how it went.",
    }
    return FollowUpRule.objects.create(code=code, trigger=trigger, **{**defaults, **values})


def event(type_="reception.ticket_completed", *, branch, customer, subject=None, **payload):
    with transaction.atomic():
        return record(
            type=type_,
            actor=None,
            branch=branch,
            customer=customer,
            subject=subject,
            payload=payload or {"service": "cash"},
        )


def cursor_position() -> int:
    return CareCursor.objects.get(name="callbacks").last_event_id


@time_machine.travel(MONDAY_10, tick=False)
@pytest.mark.parametrize(
    ("type_", "trigger", "payload"),
    [
        ("reception.ticket_completed", Trigger.SERVICE_COMPLETED, {"service": "cash"}),
        ("transactions.request_executed", Trigger.REQUEST_EXECUTED, {"request_type": "open"}),
    ],
)
def test_an_event_schedules_its_rules_callback_on_the_branch_calendar(
    branch_a, customer, type_, trigger, payload
):
    rule = make_rule(trigger=trigger, priority=1, script="Ask about the wait.")
    source = event(type_, branch=branch_a, customer=customer, **payload)

    report = callbacks_generate()

    callback = Callback.objects.get()
    assert (report.created, report.events) == (1, 1)
    assert callback.rule == rule and callback.source_event == source
    assert (callback.customer, callback.branch) == (customer, branch_a)
    assert (callback.reason_code, callback.priority, callback.script) == (
        "r",
        1,
        "Ask about the wait.",
    )
    assert callback.status == CallbackStatus.OPEN
    # Monday 10:00 + 2 business days = Wednesday 10:00, branch time.
    assert callback.due_at == dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)
    assert cursor_position() == source.pk


@time_machine.travel(dt.datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI), tick=False)
def test_business_days_skip_the_weekend(branch_a, customer):
    make_rule(delay=2)
    event(branch=branch_a, customer=customer)

    callbacks_generate()

    # Friday 10:00 + 2 business days = Tuesday 10:00.
    assert Callback.objects.get().due_at == dt.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)


@time_machine.travel(dt.datetime(2026, 3, 2, 19, 0, tzinfo=SHANGHAI), tick=False)
def test_a_due_time_in_quiet_hours_moves_to_their_end(branch_a, customer):
    # 19:00 + 3 hours is 22:00, inside the default quiet hours 21:00-08:00.
    make_rule(delay=3, delay_unit=DelayUnit.HOURS)
    event(branch=branch_a, customer=customer)

    callbacks_generate()

    assert Callback.objects.get().due_at == dt.datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI)


@time_machine.travel(MONDAY_10, tick=False)
def test_hours_outside_quiet_hours_count_as_they_are(branch_a, customer):
    make_rule(delay=4, delay_unit=DelayUnit.HOURS)
    event(branch=branch_a, customer=customer)

    callbacks_generate()

    assert Callback.objects.get().due_at == MONDAY_10 + dt.timedelta(hours=4)


def test_match_code_limits_a_rule_to_one_service(branch_a, make_staff):
    make_rule("cash-only", match_code="cash")
    make_rule("loans-only", match_code="loans")
    cash = CustomerFactory(home_branch=branch_a, consent_phone=True)
    other = CustomerFactory(home_branch=branch_a, consent_phone=True)
    event(branch=branch_a, customer=cash, service="cash")
    event(branch=branch_a, customer=other, service="fx")

    report = callbacks_generate()

    assert list(Callback.objects.values_list("rule__code", "customer")) == [("cash-only", cash.pk)]
    assert (report.events, report.matched, report.created) == (2, 1, 1)


def test_a_complaint_decided_matches_on_its_category(branch_a, customer, make_staff):
    from complaints.models import Category
    from complaints.services import complaint_create

    make_rule("card-care", trigger=Trigger.COMPLAINT_DECIDED, match_code="card", delay=3)
    make_rule("other-care", trigger=Trigger.COMPLAINT_DECIDED, match_code="deposit")
    complaint = complaint_create(
        actor=make_staff("teller", branch=branch_a),
        branch=branch_a,
        channel="counter",
        category=Category.objects.get(code="card", parent=None),
        description="The ATM kept my card.",
        customer=customer,
    )
    decided = event(
        "complaints.complaint_decided",
        branch=branch_a,
        customer=customer,
        subject=complaint,
        complaint_id=complaint.pk,
        status="resolved",
    )

    callbacks_generate()

    callback = Callback.objects.get()
    assert (callback.rule.code, callback.source_event) == ("card-care", decided)


def test_events_without_a_customer_and_other_events_schedule_nothing(branch_a, customer):
    make_rule()
    event(branch=branch_a, customer=None)
    event("reception.ticket_called", branch=branch_a, customer=customer)
    last = event(
        "transactions.request_executed", branch=branch_a, customer=customer, request_type="x"
    )

    report = callbacks_generate()

    assert not Callback.objects.exists()
    assert report.events == 3
    assert cursor_position() == last.pk


def test_an_inactive_rule_schedules_nothing(branch_a, customer):
    make_rule(is_active=False)
    last = event(branch=branch_a, customer=customer)

    callbacks_generate()

    assert not Callback.objects.exists()
    assert cursor_position() == last.pk


# --- Guards, through callback_create.


def test_a_customer_who_opted_out_of_calls_is_never_called(branch_a):
    make_rule()
    event(branch=branch_a, customer=CustomerFactory(home_branch=branch_a, consent_phone=False))

    report = callbacks_generate()

    assert not Callback.objects.exists()
    assert report.refused == 1


def test_one_open_callback_per_customer_and_reason(branch_a, customer):
    make_rule("a", reason_code="visit")
    make_rule("b", reason_code="visit", trigger=Trigger.REQUEST_EXECUTED)
    event(branch=branch_a, customer=customer)
    event("transactions.request_executed", branch=branch_a, customer=customer, request_type="x")

    report = callbacks_generate()

    assert Callback.objects.filter(customer=customer).count() == 1
    assert (report.created, report.refused) == (1, 1)


def test_the_contact_cap_holds_across_rules(branch_a, customer, settings):
    settings.CARE_CONTACT_CAP = 2
    make_rule("a")
    make_rule("b")
    make_rule("c")
    event(branch=branch_a, customer=customer)

    report = callbacks_generate()

    assert Callback.objects.filter(customer=customer).count() == 2
    assert (report.matched, report.created, report.refused) == (3, 2, 1)


# --- Exactly once: reruns, restarts, batches, gaps, two workers.


def test_a_rerun_creates_nothing_more(branch_a, customer):
    make_rule()
    first_last = event(branch=branch_a, customer=customer).pk
    callbacks_generate()

    again = callbacks_generate()

    assert Callback.objects.count() == 1
    # It read only what the first run wrote (the callback's own events) and matched nothing.
    assert (again.matched, again.created) == (0, 0)
    assert set(Event.objects.filter(pk__gt=first_last).values_list("type", flat=True)) >= {
        "care.callback_created"
    }


def test_a_cursor_reset_to_the_start_repeats_no_callback(branch_a, settings):
    # Even a cursor moved back is safe: a rule acts on an event once (the unique constraint).
    settings.CARE_CONTACT_CAP = 10
    make_rule()
    for _i in range(3):
        event(branch=branch_a, customer=CustomerFactory(home_branch=branch_a, consent_phone=True))
    start = cursor_position()
    callbacks_generate()
    Callback.objects.update(status=CallbackStatus.DONE, closed_at=MONDAY_10)
    CareCursor.objects.filter(name="callbacks").update(last_event_id=start)

    again = callbacks_generate()

    assert Callback.objects.count() == 3
    assert (again.matched, again.created, again.refused) == (3, 0, 3)


def test_a_run_stopped_between_batches_resumes_without_losing_or_repeating(branch_a, settings):
    settings.CARE_EVENT_BATCH = 2
    make_rule()
    customers = [CustomerFactory(home_branch=branch_a, consent_phone=True) for _i in range(5)]
    events = [event(branch=branch_a, customer=c) for c in customers]

    first = callbacks_generate(max_batches=1)  # a worker stopped after one batch
    assert first.created == 2
    assert cursor_position() == events[1].pk

    rest = callbacks_generate()

    assert rest.created == 3
    assert sorted(Callback.objects.values_list("source_event", flat=True)) == [e.pk for e in events]
    # Past the callbacks' own events too: caught up with the whole stream.
    assert cursor_position() == Event.objects.latest("id").pk


def take_an_id_without_committing() -> int:
    """An event id allocated by a transaction that has not committed (yet): a gap in the log."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Event._meta.db_table]
            )
            return cursor.fetchone()[0]
    # SQLite never reuses an AUTOINCREMENT id (PostgreSQL's log refuses deletes, hence above).
    taken = event("reception.ticket_called", branch=None, customer=None)
    Event.objects.filter(pk=taken.pk).delete()
    return taken.pk


def test_a_run_out_of_time_stops_after_a_whole_batch(branch_a, settings):
    settings.CARE_EVENT_BATCH = 2
    make_rule()
    for _i in range(3):
        event(branch=branch_a, customer=CustomerFactory(home_branch=branch_a, consent_phone=True))

    report = callbacks_generate(budget_seconds=0)

    assert report.created == 2
    assert callbacks_generate().created == 1


def test_the_cursor_waits_on_a_missing_id_then_skips_it_after_the_grace(
    branch_a, customer, settings
):
    settings.CARE_EVENT_GAP_GRACE_SECONDS = 60
    make_rule()
    with time_machine.travel(MONDAY_10, tick=False):
        before = event("reception.ticket_called", branch=branch_a, customer=customer)
        take_an_id_without_committing()
        after = event(branch=branch_a, customer=customer)

        waiting = callbacks_generate()

        assert waiting.waiting_on_gap
        assert cursor_position() == before.pk
        assert not Callback.objects.exists()

    with time_machine.travel(MONDAY_10 + dt.timedelta(seconds=61), tick=False):
        done = callbacks_generate()  # the transaction rolled back: its id never comes

    assert not done.waiting_on_gap
    assert cursor_position() >= after.pk
    assert Callback.objects.get().source_event == after


def test_an_event_committed_late_inside_the_grace_is_not_lost(branch_a, customer):
    make_rule()
    with time_machine.travel(MONDAY_10, tick=False):
        late_id = take_an_id_without_committing()
        later = event(branch=branch_a, customer=customer)
        callbacks_generate()
        assert cursor_position() == late_id - 1
        assert not Callback.objects.exists()
        late = Event.objects.create(  # the transaction commits after all
            id=late_id,
            type="reception.ticket_completed",
            occurred_at=MONDAY_10,
            branch=branch_a,
            customer=CustomerFactory(home_branch=branch_a, consent_phone=True),
            payload={"service": "cash"},
        )

        callbacks_generate()

    assert sorted(Callback.objects.values_list("source_event", flat=True)) == [late.pk, later.pk]


def test_a_batch_costs_the_same_queries_for_any_number_of_unmatched_events(
    branch_a, customer, django_assert_num_queries
):
    make_rule(match_code="loans")
    for _i in range(3):
        event(branch=branch_a, customer=customer)
    # The cursor, the follow-up and survey rules, then one batch: savepoint, lock the cursor,
    # read the events, move the cursor, release.
    with django_assert_num_queries(8):
        callbacks_generate()
    for _i in range(30):
        event(branch=branch_a, customer=customer)
    with django_assert_num_queries(8):
        callbacks_generate()


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_make_one_callback_per_rule_and_event(branch_a, settings):
    settings.CARE_EVENT_BATCH = 5
    make_rule("a", reason_code="a")
    make_rule("b", reason_code="b")
    events = [
        event(branch=branch_a, customer=CustomerFactory(home_branch=branch_a, consent_phone=True))
        for _i in range(12)
    ]

    results = run_together(callbacks_generate, callbacks_generate)

    assert not [r for r in results if isinstance(r, Exception)]
    pairs = list(Callback.objects.values_list("rule__code", "source_event"))
    assert sorted(pairs) == sorted((code, e.pk) for code in "ab" for e in events)
    assert sum(r.created for r in results) == 24
    assert cursor_position() == Event.objects.latest("id").pk


# --- The consultation hand-off.


def test_a_consultation_closed_with_follow_up_becomes_a_callback(branch_a, customer, make_staff):
    from consultation.services import consultation_close, consultation_start

    rule = make_rule(
        "consult", trigger=Trigger.CONSULTATION_FOLLOW_UP, delay=1, reason_code="consult"
    )
    advisor = make_staff("advisor", branch=branch_a)
    with time_machine.travel(MONDAY_10, tick=False):
        consultation = consultation_start(
            actor=advisor, channel="phone", branch=branch_a, customer=customer
        )
        consultation_close(actor=advisor, consultation=consultation, outcome="follow_up")

    consultation.refresh_from_db()
    callback = Callback.objects.get()
    assert consultation.handoff_status == "done"
    assert consultation.handoff_ref == f"care.callback:{callback.pk}"
    assert callback.rule == rule and callback.source_event is None
    assert callback.source_ref == f"consultation.consultation:{consultation.pk}"
    assert callback.due_at == dt.datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI)
    # The generator does not call the customer a second time for the same consultation.
    callbacks_generate()
    assert Callback.objects.count() == 1


def test_a_hand_off_for_a_customer_who_opted_out_fails_visibly(branch_a, make_staff):
    from consultation.services import consultation_close, consultation_start

    make_rule("consult", trigger=Trigger.CONSULTATION_FOLLOW_UP)
    advisor = make_staff("advisor", branch=branch_a)
    customer = CustomerFactory(home_branch=branch_a, consent_phone=False)
    consultation = consultation_start(
        actor=advisor, channel="phone", branch=branch_a, customer=customer
    )
    consultation_close(actor=advisor, consultation=consultation, outcome="follow_up")

    consultation.refresh_from_db()
    assert consultation.handoff_status == "failed"
    assert "does not accept calls" in consultation.handoff_error
    assert not Callback.objects.exists()


# --- Shipped rules, the task and its schedule.


def test_the_shipped_rules_speak_both_languages(_only_test_rules_and_new_events):
    shipped = {
        rule.code: rule
        for rule in FollowUpRule.objects.filter(
            code__in=[
                "complaint-satisfaction",
                "request-executed",
                "service-completed",
                "consultation-follow-up",
            ]
        )
    }
    assert _only_test_rules_and_new_events == {
        "complaint-satisfaction",
        "request-executed",
        "consultation-follow-up",
        "service-recovery",
    }
    satisfaction = shipped["complaint-satisfaction"]
    assert (satisfaction.trigger, satisfaction.delay, satisfaction.delay_unit) == (
        Trigger.COMPLAINT_DECIDED,
        3,
        DelayUnit.BUSINESS_DAYS,
    )
    assert (shipped["request-executed"].trigger, shipped["request-executed"].delay) == (
        Trigger.REQUEST_EXECUTED,
        2,
    )
    assert shipped["service-completed"].trigger == Trigger.SERVICE_COMPLETED
    for rule in shipped.values():
        assert rule.name_zh and rule.name_en and rule.name_zh != rule.name_en
        assert "问候客户" in rule.script
        assert "Greet the customer" in rule.script


def test_beat_runs_the_task_every_minute_and_it_generates(settings, branch_a, customer):
    from django_celery_beat.schedulers import ModelEntry

    from bankservice.celery import app
    from care.tasks import generate_callbacks

    entry = settings.CELERY_BEAT_SCHEDULE["care-generate-callbacks"]
    assert entry["task"] == "care.generate_callbacks" and entry["task"] in app.tasks
    assert entry["schedule"] == dt.timedelta(minutes=1)
    assert ModelEntry._unpack_fields(**entry)["expire_seconds"] == 50
    make_rule()
    event(branch=branch_a, customer=customer)

    generate_callbacks()

    assert Callback.objects.filter(customer=customer).count() == 1


def test_an_event_a_rule_cannot_act_on_is_skipped_and_the_stream_goes_on(branch_a, customer):
    # A rule for a role that no longer exists: callback_create refuses it (BadInput).
    make_rule("broken", role="retired_role")
    make_rule("fine", trigger=Trigger.REQUEST_EXECUTED)
    event(branch=branch_a, customer=customer)
    last = event(
        "transactions.request_executed", branch=branch_a, customer=customer, request_type="x"
    )

    report = callbacks_generate()

    assert (report.failed, report.created) == (1, 1)
    assert Callback.objects.get().rule.code == "fine"
    assert cursor_position() >= last.pk


def test_a_hand_off_without_a_registered_customer_fails_visibly(branch_a, make_staff):
    from consultation.services import consultation_close, consultation_start

    make_rule("consult", trigger=Trigger.CONSULTATION_FOLLOW_UP)
    advisor = make_staff("advisor", branch=branch_a)
    consultation = consultation_start(
        actor=advisor,
        channel="phone",
        branch=branch_a,
        contact_name="Wang",
        contact_phone="+8613900000000",
    )
    consultation_close(actor=advisor, consultation=consultation, outcome="follow_up")

    consultation.refresh_from_db()
    assert consultation.handoff_status == "failed"
    assert "register the customer" in consultation.handoff_error


def test_a_hand_off_for_a_customer_already_due_a_call_for_it_points_at_that_callback(
    branch_a, customer, make_staff
):
    from consultation.services import consultation_close, consultation_start

    make_rule("consult", trigger=Trigger.CONSULTATION_FOLLOW_UP, reason_code="consult")
    advisor = make_staff("advisor", branch=branch_a)
    refs = []
    for _i in range(2):
        consultation = consultation_start(
            actor=advisor, channel="phone", branch=branch_a, customer=customer
        )
        consultation_close(actor=advisor, consultation=consultation, outcome="follow_up")
        consultation.refresh_from_db()
        refs.append((consultation.handoff_status, consultation.handoff_ref))

    callback = Callback.objects.get()
    assert refs == [("done", f"care.callback:{callback.pk}")] * 2


def test_administrators_edit_rules_but_never_delete_them(admin_client, db):
    rule = make_rule()

    assert admin_client.get("/admin/care/followuprule/").status_code == 200
    page = admin_client.get(f"/admin/care/followuprule/{rule.pk}/change/")
    assert page.status_code == 200
    assert admin_client.get(f"/admin/care/followuprule/{rule.pk}/delete/").status_code == 403
