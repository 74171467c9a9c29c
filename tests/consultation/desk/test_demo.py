"""Demo consultations: closed ones with outcomes at branches with an advisor, once."""

import pytest

from consultation.hooks import DEMO, seed_demo
from consultation.models import Consultation, HandoffStatus

pytestmark = pytest.mark.django_db


def test_seed_demo_closes_a_few_consultations_once(advisor, branch_a, branch_b, article):
    assert seed_demo(branches=[branch_a, branch_b]) == {"consultations": len(DEMO)}
    assert seed_demo(branches=[branch_a, branch_b]) == {"consultations": 0}

    rows = Consultation.objects.filter(branch=branch_a)  # branch B has no advisor
    assert rows.count() == Consultation.objects.count() == len(DEMO)
    assert set(rows.values_list("outcome", flat=True)) == {o for *_x, o in DEMO}
    assert not rows.filter(ended_at__isnull=True).exists()
    # Follow-up and complaint wait for the care and complaints stages to be installed.
    handoff_outcomes = {o for *_x, o in DEMO if o in ("follow_up", "complaint")}
    assert rows.filter(handoff_status=HandoffStatus.PENDING).count() == len(handoff_outcomes)
    answered = sum(1 for *_x, o in DEMO if o == "answered")
    assert rows.filter(articles=article).count() == answered
