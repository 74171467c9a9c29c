"""Two closes of one consultation at the same moment on PostgreSQL: exactly one wins.

The close locks the consultation row and checks it is still open under the lock, so the loser
waits, then sees it closed (409) whichever thread the database lets in first.
"""

import pytest

from bankservice.branches.models import Role
from bankservice.events.models import Event
from consultation.models import Consultation
from consultation.services import NotOpen, consultation_close, consultation_start
from tests.concurrency import run_together
from tests.conftest import requires_postgres

# serialized_rollback: the flush between transactional tests would drop the role groups that
# a data migration created.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_two_closes_at_once_one_wins(make_staff, branch_a):
    advisor = make_staff(Role.ADVISOR, branch=branch_a, username="advisor-a")
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-a")
    consultation = consultation_start(
        actor=advisor, channel="phone", branch=branch_a, contact_name="Li Lei"
    )

    def closer(actor, outcome):
        return lambda: consultation_close(
            actor=actor, consultation=consultation.pk, outcome=outcome
        )

    results = run_together(closer(advisor, "answered"), closer(manager, "complaint"))

    won = [r for r in results if isinstance(r, Consultation)]
    lost = [r for r in results if isinstance(r, NotOpen)]
    assert len(won) == 1 and len(lost) == 1, results
    stored = Consultation.objects.get()
    assert stored.outcome == won[0].outcome
    assert Event.objects.filter(type="consultation.closed").count() == 1
