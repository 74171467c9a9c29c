"""The dashboards' measures of customer care (care/kpi_selectors.py): surveys answered through
survey_answer and callbacks worked through the callback services, on hand-built data.

Branches A and B are in Shanghai; surveys are sent Monday 2 March 2026 at 09:00. Local times:

    survey  branch service   staff    answered        CSAT  NPS
    s1      A      cash      teller   Mon 10:15       5     10   satisfied, promoter
    s2      A      cash      teller   Mon 10:40       3     6    detractor
    s3      A      cash      -        Mon 11:05       4     -    satisfied
    s4      A      accounts  teller   Tue 07:30       -     8    passive (Mon 23:30 in UTC)
    s5      B      cash      -        Mon 10:20       1     0    detractor
    s6      A      cash      teller   not answered

    callback  rule          reason          claimed by  closed                 as
    cb1       card-check    card-activated  agent       Mon 10:30              done
    cb2       -             complaint-sat.  agent_2     Mon 11:10              unreachable
    cb3       -             welcome         -           Mon 11:20 (manager)    cancelled
    cb4       -             welcome         agent       Tue 08:00 (refused)    done
    cb5       -             welcome         -           open
"""

# The fixtures imported from callback_fixtures reappear as test arguments.
# ruff: noqa: F811

import datetime as dt

import pytest

from care.kpi_selectors import measure_rows
from care.models import FollowUpRule, Survey, SurveyRule, Trigger
from care.services import (
    callback_attempt,
    callback_cancel,
    callback_claim,
    callback_complete,
    callback_create,
)
from care.survey_responses import survey_answer
from tests.factories import CustomerFactory

from .callback_fixtures import (  # noqa: F401 (fixtures)
    MONDAY_9,
    SHANGHAI,
    _care_registered,
    agent,
    agent_2,
    manager,
    now,
)

pytestmark = pytest.mark.django_db

MONDAY, TUESDAY = dt.date(2026, 3, 2), dt.date(2026, 3, 3)
DIMENSION_KEYS = ("day", "hour", "branch", "service", "staff")
SURVEY_MEASURES = (
    "csat_answers",
    "csat_sum",
    "csat_satisfied",
    "nps_answers",
    "nps_promoters",
    "nps_detractors",
)


def at(hour, minute=0, day=2):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def _by_key(rows, keys=DIMENSION_KEYS):
    return {tuple(row[k] for k in keys): row for row in rows}


def _measures(row, names=None):
    return {k: v for k, v in row.items() if k not in DIMENSION_KEYS and (not names or k in names)}


@pytest.fixture
def surveys(now, branch_a, branch_b, teller):
    rule = SurveyRule.objects.get(code="after-service")

    def sent(branch, service_code, staff):
        return Survey.objects.create(
            rule=rule,
            customer=CustomerFactory(home_branch=branch),
            branch=branch,
            trigger=Trigger.SERVICE_COMPLETED,
            service_code=service_code,
            staff=staff,
            channel="sms",
            language="en",
            sent_at=MONDAY_9,
            expires_at=MONDAY_9 + dt.timedelta(days=7),
        )

    s1, s2, s3, s4 = (
        sent(branch_a, "cash", teller),
        sent(branch_a, "cash", teller),
        sent(branch_a, "cash", None),
        sent(branch_a, "accounts", teller),
    )
    s5 = sent(branch_b, "cash", None)
    sent(branch_a, "cash", teller)  # s6: never answered
    survey_answer(survey=s1, csat=5, nps=10, now=at(10, 15))
    survey_answer(survey=s2, csat=3, nps=6, now=at(10, 40))
    survey_answer(survey=s3, csat=4, now=at(11, 5))
    survey_answer(survey=s4, nps=8, now=at(7, 30, day=3))
    survey_answer(survey=s5, csat=1, nps=0, now=at(10, 20))


@pytest.fixture
def callbacks(now, time_machine, branch_a, agent, agent_2, manager):
    rule = FollowUpRule.objects.create(
        code="card-check",
        name_zh="开卡回访",
        name_en="Card check",
        trigger=Trigger.REQUEST_EXECUTED,
        delay=1,
        delay_unit="hours",
        reason_code="card-activated",
    )

    def schedule(reason_code, **extra):
        return callback_create(
            actor=None,
            customer=CustomerFactory(home_branch=branch_a, consent_phone=True),
            branch=branch_a,
            reason_code=reason_code,
            due_at=at(10),
            **extra,
        )

    def move(moment):
        time_machine.move_to(moment, tick=False)

    cb1 = schedule("card-activated", rule=rule)
    cb2 = schedule("complaint-satisfaction")
    cb3 = schedule("welcome")
    cb4 = schedule("welcome")
    schedule("welcome")  # cb5: stays open
    move(at(10))
    callback_claim(actor=agent, callback=cb1)
    callback_claim(actor=agent_2, callback=cb2)
    callback_claim(actor=agent, callback=cb4)
    move(at(10, 20))
    callback_attempt(actor=agent, callback=cb1, channel="phone", result="reached")
    move(at(10, 30))
    callback_complete(actor=agent, callback=cb1, outcome="Card works.", satisfaction=5)
    move(at(11, 10))
    callback_attempt(actor=agent_2, callback=cb2, channel="phone", result="wrong_number")
    move(at(11, 20))
    callback_cancel(actor=manager, callback=cb3, reason="Came to the branch instead.")
    move(at(8, day=3))
    callback_attempt(actor=agent, callback=cb4, channel="phone", result="refused")


def test_survey_answers_by_local_day_hour_branch_service_and_staff(
    surveys, branch_a, branch_b, teller
):
    rows = _by_key(measure_rows(start=MONDAY, end=TUESDAY))

    assert {key: _measures(row) for key, row in rows.items()} == {
        # s1 (5, 10) and s2 (3, 6).
        (MONDAY, 10, branch_a.id, "cash", teller.id): {
            "csat_answers": 2,
            "csat_sum": 8,
            "csat_satisfied": 1,
            "nps_answers": 2,
            "nps_promoters": 1,
            "nps_detractors": 1,
        },
        # s3: a CSAT only, so no NPS measures.
        (MONDAY, 11, branch_a.id, "cash", None): {
            "csat_answers": 1,
            "csat_sum": 4,
            "csat_satisfied": 1,
        },
        # s4: an NPS of 8 neither promotes nor detracts; Tuesday in Shanghai.
        (TUESDAY, 7, branch_a.id, "accounts", teller.id): {"nps_answers": 1},
        # s5 (1, 0).
        (MONDAY, 10, branch_b.id, "cash", None): {
            "csat_answers": 1,
            "csat_sum": 1,
            "nps_answers": 1,
            "nps_detractors": 1,
        },
    }


def test_survey_totals_by_branch_service_and_staff(surveys, branch_a, branch_b, teller):
    by_branch = _by_key(measure_rows(start=MONDAY, end=TUESDAY, by=("branch",)), ("branch",))
    # Branch A: CSAT 5, 3, 4; NPS 10, 6, 8.
    assert _measures(by_branch[(branch_a.id,)]) == {
        "csat_answers": 3,
        "csat_sum": 12,
        "csat_satisfied": 2,
        "nps_answers": 3,
        "nps_promoters": 1,
        "nps_detractors": 1,
    }
    by_service = _by_key(measure_rows(start=MONDAY, end=TUESDAY, by=("service",)), ("service",))
    # Cash: s1, s2, s3, s5 (CSAT 5, 3, 4, 1; NPS 10, 6, 0).
    assert _measures(by_service[("cash",)]) == {
        "csat_answers": 4,
        "csat_sum": 13,
        "csat_satisfied": 2,
        "nps_answers": 3,
        "nps_promoters": 1,
        "nps_detractors": 2,
    }
    assert _measures(by_service[("accounts",)]) == {"nps_answers": 1}
    by_staff = _by_key(
        measure_rows(start=MONDAY, end=MONDAY, branch_ids=[branch_a.id], by=("staff",)),
        ("staff",),
    )
    # Monday only (s4 is Tuesday's): s1, s2 for the teller; s3 for nobody.
    assert by_staff[(teller.id,)]["csat_sum"] == 8
    assert "nps_answers" not in by_staff[(None,)]
    assert set(by_staff) == {(teller.id,), (None,)}


def test_callbacks_closed_and_done(callbacks, branch_a, agent, agent_2):
    rows = _by_key(measure_rows(start=MONDAY, end=TUESDAY))

    assert {key: _measures(row) for key, row in rows.items()} == {
        # cb1 under its rule's code.
        (MONDAY, 10, branch_a.id, "card-check", agent.id): {
            "callbacks_closed": 1,
            "callbacks_done": 1,
        },
        # cb2 (no rule: its reason code), unreachable: closed, not done.
        (MONDAY, 11, branch_a.id, "complaint-satisfaction", agent_2.id): {"callbacks_closed": 1},
        # cb3, cancelled before anyone claimed it.
        (MONDAY, 11, branch_a.id, "welcome", None): {"callbacks_closed": 1},
        # cb4: refused on the phone counts as done.
        (TUESDAY, 8, branch_a.id, "welcome", agent.id): {
            "callbacks_closed": 1,
            "callbacks_done": 1,
        },
    }


def test_callbacks_by_hour_and_by_staff(callbacks, branch_a, agent, agent_2):
    hours = measure_rows(start=MONDAY, end=MONDAY, by=("hour",))
    assert {row["hour"]: _measures(row) for row in hours} == {
        10: {"callbacks_closed": 1, "callbacks_done": 1},  # cb1
        11: {"callbacks_closed": 2},  # cb2, cb3
    }
    by_staff = _by_key(measure_rows(start=MONDAY, end=TUESDAY, by=("staff",)), ("staff",))
    assert by_staff == {
        (agent.id,): {"staff": agent.id, "callbacks_closed": 2, "callbacks_done": 2},
        (agent_2.id,): {"staff": agent_2.id, "callbacks_closed": 1},
        (None,): {"staff": None, "callbacks_closed": 1},
    }


def test_surveys_and_callbacks_merge_into_one_row_and_the_edges(
    surveys, callbacks, branch_a, branch_b
):
    (monday_a,) = measure_rows(
        start=MONDAY, end=MONDAY, branch_ids=[branch_a.id], by=("day", "branch")
    )
    # s1, s2, s3 and cb1, cb2, cb3.
    assert monday_a == {
        "day": MONDAY,
        "branch": branch_a.id,
        "csat_answers": 3,
        "csat_sum": 12,
        "csat_satisfied": 2,
        "nps_answers": 2,
        "nps_promoters": 1,
        "nps_detractors": 1,
        "callbacks_closed": 3,
        "callbacks_done": 1,
    }
    # Tuesday: s4 and cb4 at branch A; nothing at B.
    (tuesday,) = measure_rows(start=TUESDAY, end=TUESDAY, by=())
    assert tuesday == {"nps_answers": 1, "callbacks_closed": 1, "callbacks_done": 1}
    assert measure_rows(start=TUESDAY, end=TUESDAY, branch_ids=[branch_b.id]) == []
    assert measure_rows(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1)) == []
    assert measure_rows(start=dt.date(2026, 3, 4), end=dt.date(2026, 3, 31)) == []
    assert measure_rows(start=MONDAY, end=TUESDAY, branch_ids=[]) == []
