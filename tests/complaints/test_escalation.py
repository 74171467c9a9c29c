"""Warnings and the two-level escalation, all through the kernel's deadline sweep.

Branch A (region "east") is on the bank's CN pack: the decision is due at the end of the 15th
day after receipt, warned when 80 % of that time has passed. A breach escalates to the branch
managers (level 1) and starts COMPLAINTS_REGION_ESCALATION_HOURS (8) business hours on the
branch's calendar (Mon-Fri 09:00-17:00 here) before the region is told (level 2).
"""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from bankservice.events.models import Event
from bankservice.notify.models import Notification
from bankservice.sla.models import Deadline
from bankservice.sla.selectors import open_deadline_for
from bankservice.sla.services import deadline_start, deadline_sweep
from complaints import deadlines
from complaints.models import Complaint, PackClock
from complaints.services import (
    complaint_acknowledge,
    complaint_assign,
    complaint_create,
    complaint_decide,
    pack_assign,
)
from tests.concurrency import run_together
from tests.conftest import requires_postgres

from .conftest import LONDON, SHANGHAI, at

RECEIVED = at(SHANGHAI, 2026, 3, 2, 10)  # a Monday
DECISION_DUE = at(SHANGHAI, 2026, 3, 18)  # 24:00 of 17 March
# Level 1 at the breach (Wednesday 00:00): 8 business hours later is Wednesday 17:00.
REGION_DUE = at(SHANGHAI, 2026, 3, 18, 17)


def with_email(*users):
    for user in users:
        user.email = f"user{user.pk}@bank.example"
        user.save(update_fields=["email"])
    return users


@pytest.fixture
def staff(officer, officer_2, branch_manager, regional_manager):
    return with_email(officer, officer_2, branch_manager, regional_manager)


@pytest.fixture
def complaint(make_complaint, staff, time_machine):
    time_machine.move_to(RECEIVED, tick=False)
    return make_complaint()


def escalations(complaint):
    return Event.objects.filter(type="complaints.complaint_escalated", subject_id=str(complaint.pk))


def emails(template):
    return sorted(
        Notification.objects.filter(template=template).values_list("contact_name", flat=True)
    )


def names(*users):
    return sorted(u.get_full_name() for u in users)


def decision_deadline(complaint):
    return Deadline.objects.get(subject_id=str(complaint.pk), kind="complaint.decision")


@pytest.mark.django_db
class TestWarnings:
    def test_unassigned_the_branch_s_officers_and_managers_are_warned(
        self, complaint, officer, officer_2, branch_manager, regional_manager
    ):
        warn_at = decision_deadline(complaint).warn_at
        assert deadline_sweep(now=warn_at + dt.timedelta(minutes=1)).warned == 1

        assert emails("complaints.due_soon") == names(officer, officer_2, branch_manager)
        event = Event.objects.get(type="complaints.clock_warned")
        assert event.payload["complaint_id"] == complaint.pk
        assert sorted(event.payload["told"]) == sorted(
            u.pk for u in (officer, officer_2, branch_manager)
        )
        assert not escalations(complaint).exists()

    def test_assigned_only_its_officer_and_the_managers_are_warned(
        self, complaint, officer, officer_2, branch_manager, time_machine
    ):
        complaint_assign(actor=branch_manager, complaint=complaint, officer=officer_2)
        warn_at = decision_deadline(complaint).warn_at
        deadline_sweep(now=warn_at + dt.timedelta(minutes=1))
        deadline_sweep(now=warn_at + dt.timedelta(hours=2))  # once only

        assert emails("complaints.due_soon") == names(officer_2, branch_manager)
        email = Notification.objects.filter(template="complaints.due_soon").first()
        assert email.channel == "email"
        assert email.context["complaint_reference"] == complaint.reference
        assert email.context["due_at"] == "2026-03-18 00:00"

    def test_the_staff_member_complained_about_is_not_told(
        self, make_complaint, staff, officer, officer_2, branch_manager, time_machine
    ):
        time_machine.move_to(RECEIVED, tick=False)
        complaint = make_complaint(staff_complained_about=officer)
        deadline_sweep(now=decision_deadline(complaint).warn_at)

        assert emails("complaints.due_soon") == names(officer_2, branch_manager)


@pytest.mark.django_db
class TestEscalation:
    def test_a_breach_escalates_to_the_branch_then_to_the_region_each_once(
        self, complaint, branch_manager, regional_manager
    ):
        result = deadline_sweep(now=DECISION_DUE + dt.timedelta(minutes=5))
        assert result.breached == 1
        complaint.refresh_from_db()
        assert complaint.escalation_level == 1
        assert complaint.escalated_at == DECISION_DUE + dt.timedelta(minutes=5)
        assert emails("complaints.escalated") == names(branch_manager)
        escalation = open_deadline_for(complaint, kind=deadlines.ESCALATION_KIND)
        assert escalation.due_at == REGION_DUE
        assert escalation.policy == "complaints.escalation"

        # Nothing more until the region's deadline, however often the sweep runs.
        deadline_sweep(now=DECISION_DUE + dt.timedelta(hours=1))
        deadline_sweep(now=REGION_DUE - dt.timedelta(minutes=1))
        assert escalations(complaint).count() == 1

        assert deadline_sweep(now=REGION_DUE + dt.timedelta(minutes=1)).breached == 1
        deadline_sweep(now=REGION_DUE + dt.timedelta(days=3))
        complaint.refresh_from_db()
        assert complaint.escalation_level == 2
        levels = [e.payload["level"] for e in escalations(complaint).order_by("id")]
        assert levels == [1, 2]
        assert emails("complaints.escalated") == sorted(
            names(branch_manager) + names(regional_manager)
        )
        # Level 2 went to the regional manager only, in one e-mail.
        level_2 = Notification.objects.filter(template="complaints.escalated", context__level=2)
        assert list(level_2.values_list("contact_name", flat=True)) == names(regional_manager)

    def test_a_decision_after_level_1_stops_the_way_to_the_region(
        self, complaint, branch_manager, time_machine
    ):
        deadline_sweep(now=DECISION_DUE + dt.timedelta(minutes=5))
        time_machine.move_to(DECISION_DUE + dt.timedelta(hours=10), tick=False)
        complaint_decide(
            actor=branch_manager, complaint=complaint, outcome="rejected", reasons="No fault."
        )
        deadline_sweep(now=REGION_DUE + dt.timedelta(hours=1))

        complaint.refresh_from_db()
        assert complaint.escalation_level == 1
        assert escalations(complaint).count() == 1
        escalation = Deadline.objects.get(kind=deadlines.ESCALATION_KIND)
        assert escalation.state == "met"

    def test_a_complaint_decided_in_time_is_never_escalated(
        self, complaint, branch_manager, time_machine
    ):
        time_machine.move_to(at(SHANGHAI, 2026, 3, 10, 10), tick=False)
        complaint_decide(
            actor=branch_manager, complaint=complaint, outcome="upheld", reasons="Yes."
        )
        deadline_sweep(now=DECISION_DUE + dt.timedelta(days=60))

        complaint.refresh_from_db()
        assert complaint.escalation_level == 0
        assert not escalations(complaint).exists()
        assert not Notification.objects.filter(template="complaints.escalated").exists()

    def test_a_clock_falling_due_on_a_decided_complaint_is_recorded_not_escalated(
        self, complaint, branch_manager, cn_pack, time_machine
    ):
        time_machine.move_to(at(SHANGHAI, 2026, 3, 10, 10), tick=False)
        complaint_decide(
            actor=branch_manager, complaint=complaint, outcome="upheld", reasons="Yes."
        )
        # A clock left running (say, an administrator's internal target added later).
        deadline_start(
            subject=complaint,
            kind="complaint.decision",
            policy=deadlines.POLICIES["calendar_days"],
            branch=complaint.branch,
            started_at=RECEIVED,
            due_at=DECISION_DUE,
        )
        assert deadline_sweep(now=DECISION_DUE + dt.timedelta(minutes=1)).breached == 1

        complaint.refresh_from_db()
        assert complaint.escalation_level == 0
        assert not escalations(complaint).exists()
        assert Event.objects.filter(type="complaints.clock_breached").count() == 1

    def test_a_failing_handler_is_retried_by_the_kernel_and_escalates_once(
        self, complaint, branch_manager
    ):
        # A manager's address the notifications refuse: the handler raises, the breach waits.
        branch_manager.email = "not-an-address"
        branch_manager.save(update_fields=["email"])
        first = DECISION_DUE + dt.timedelta(minutes=5)
        result = deadline_sweep(now=first)
        assert (result.breached, result.breach_failed) == (0, 1)
        deadline = decision_deadline(complaint)
        assert deadline.state == "open" and deadline.handler_failures == 1
        complaint.refresh_from_db()
        assert complaint.escalation_level == 0
        assert not escalations(complaint).exists()
        assert open_deadline_for(complaint, kind=deadlines.ESCALATION_KIND) is None

        # Somebody corrects the address; the sweep after the back-off escalates, once.
        with_email(branch_manager)
        assert deadline_sweep(now=deadline.retry_at - dt.timedelta(seconds=1)).breached == 0
        assert deadline_sweep(now=deadline.retry_at).breached == 1
        deadline_sweep(now=deadline.retry_at + dt.timedelta(minutes=5))
        complaint.refresh_from_db()
        assert complaint.escalation_level == 1
        assert escalations(complaint).count() == 1
        assert emails("complaints.escalated") == names(branch_manager)


@pytest.mark.django_db
class TestWindows:
    @pytest.fixture
    def london(self, london_branch, uk_pack, make_staff):
        pack_assign(pack=uk_pack, branch=london_branch, actor=None)
        return london_branch

    def uk_complaint(self, london, category, time_machine):
        time_machine.move_to(at(LONDON, 2026, 3, 2, 10), tick=False)
        return complaint_create(
            actor=None,
            branch=london,
            channel="online_form",
            category=category,
            description="Charged twice.",
            contact_name="Alice Smith",
            contact_email="alice@example.co.uk",
        )

    def test_the_summary_resolution_window_passing_is_recorded_never_escalated(
        self, london, category, make_staff, time_machine
    ):
        manager = with_email(make_staff("branch_manager", branch=london))[0]
        complaint = self.uk_complaint(london, category, time_machine)
        window = Deadline.objects.get(kind="complaint.summary_resolution")
        assert window.warn_at is None

        deadline_sweep(now=window.due_at + dt.timedelta(minutes=1))

        complaint.refresh_from_db()
        assert complaint.escalation_level == 0
        passed = Event.objects.get(type="complaints.window_passed")
        assert passed.payload["kind"] == "complaint.summary_resolution"
        assert (
            not Notification.objects.filter(template__startswith="complaints.")
            .exclude(template="complaints.letter")
            .exists()
        )
        assert manager.email  # there was someone to tell, and nobody was

    def test_a_second_clock_breaching_at_level_1_is_recorded_not_escalated_again(
        self, london, category, make_staff, time_machine
    ):
        manager = with_email(make_staff("branch_manager", branch=london))[0]
        complaint = self.uk_complaint(london, category, time_machine)
        acknowledge = Deadline.objects.get(kind="complaint.acknowledge")
        final = Deadline.objects.get(kind="complaint.final_response")

        deadline_sweep(now=acknowledge.due_at + dt.timedelta(minutes=1))
        complaint.refresh_from_db()
        assert complaint.escalation_level == 1
        # The region is told 8 business hours later (no regional manager here: nobody to mail).
        deadline_sweep(now=acknowledge.due_at + dt.timedelta(days=3))
        deadline_sweep(now=final.due_at + dt.timedelta(minutes=1))

        complaint.refresh_from_db()
        assert complaint.escalation_level == 2
        assert [e.payload["level"] for e in escalations(complaint).order_by("id")] == [1, 2]
        late = Event.objects.get(type="complaints.clock_breached")
        assert (late.payload["kind"], late.payload["level"]) == ("complaint.final_response", 2)
        assert emails("complaints.escalated") == names(manager)

    def test_the_cn_review_window_passing_is_recorded_only(
        self, complaint, branch_manager, time_machine
    ):
        time_machine.move_to(at(SHANGHAI, 2026, 3, 10, 10), tick=False)
        complaint_decide(
            actor=branch_manager, complaint=complaint, outcome="upheld", reasons="Yes."
        )
        window = Deadline.objects.get(kind="complaint.review_request_window")
        deadline_sweep(now=window.due_at + dt.timedelta(minutes=1))

        complaint.refresh_from_db()
        assert complaint.escalation_level == 0
        assert Event.objects.filter(type="complaints.window_passed").count() == 1
        assert not escalations(complaint).exists()


def test_the_pack_clocks_that_are_windows_have_no_warning(db):
    assert not PackClock.objects.filter(is_window=True, warn_fraction__isnull=False).exists()


# --- Two sweepers at once (PostgreSQL) -----------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweepers_at_once_escalate_each_complaint_once_at_each_level(
    make_complaint, staff, branch_manager, regional_manager, officer, time_machine
):
    time_machine.move_to(RECEIVED, tick=False)
    complaints = [make_complaint() for _ in range(6)]
    complaint_acknowledge(actor=officer, complaint=complaints[0], send_letter=False)

    def sweep(now):
        return lambda: deadline_sweep(now=now, batch_size=1, max_batches=50)

    first = run_together(
        sweep(DECISION_DUE + dt.timedelta(minutes=5)), sweep(DECISION_DUE + dt.timedelta(minutes=5))
    )
    assert not [r for r in first if isinstance(r, Exception)], first
    assert sum(r.breached for r in first) == 6

    second = run_together(
        sweep(REGION_DUE + dt.timedelta(minutes=5)), sweep(REGION_DUE + dt.timedelta(minutes=5))
    )
    assert not [r for r in second if isinstance(r, Exception)], second
    assert sum(r.breached for r in second) == 6

    for complaint in complaints:
        complaint.refresh_from_db()
        assert complaint.escalation_level == 2
        assert [e.payload["level"] for e in escalations(complaint).order_by("id")] == [1, 2]
    # One e-mail per complaint and level: six to the branch manager, six to the region.
    sent = Notification.objects.filter(template="complaints.escalated")
    assert sent.filter(contact_name=branch_manager.get_full_name()).count() == 6
    assert sent.filter(contact_name=regional_manager.get_full_name()).count() == 6
    assert sent.count() == 12


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_complaint_held_by_a_service_is_not_waited_for_and_escalates_on_the_retry(
    complaint, branch_manager
):
    # A lifecycle service locks the complaint, then its deadlines; the sweep holds the deadline.
    # Waiting for the complaint would deadlock with it: the handler gives up and the kernel
    # retries the breach.
    held, release = threading.Event(), threading.Event()

    def hold_the_complaint():
        try:
            with transaction.atomic():
                Complaint.objects.select_for_update().get(pk=complaint.pk)
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_complaint)
    holder.start()
    try:
        assert held.wait(timeout=10)
        result = deadline_sweep(now=DECISION_DUE + dt.timedelta(minutes=5))
        assert (result.breached, result.breach_failed) == (0, 1)
    finally:
        release.set()
        holder.join(timeout=30)

    deadline = decision_deadline(complaint)
    assert deadline.state == "open" and deadline.handler_failures == 1
    assert not escalations(complaint).exists()
    assert deadline_sweep(now=deadline.retry_at).breached == 1
    complaint.refresh_from_db()
    assert complaint.escalation_level == 1
    assert escalations(complaint).count() == 1
    assert emails("complaints.escalated") == names(branch_manager)
