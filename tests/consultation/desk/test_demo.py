"""Demo consultations: closed ones with outcomes at branches with an advisor, once."""

import pytest

from complaints.handoffs import complaint_from_consultation
from consultation.handoffs import register_handoff
from consultation.hooks import DEMO, seed_demo
from consultation.models import Consultation, HandoffStatus

pytestmark = pytest.mark.django_db


def test_seed_demo_closes_a_few_consultations_once(advisor, branch_a, branch_b, article):
    # The registry is empty in these tests (conftest): the real complaints hand-off, as
    # ComplaintsConfig.ready() registers it.
    register_handoff("complaint", complaint_from_consultation)
    assert seed_demo(branches=[branch_a, branch_b]) == {"consultations": len(DEMO)}
    assert seed_demo(branches=[branch_a, branch_b]) == {"consultations": 0}

    rows = Consultation.objects.filter(branch=branch_a)  # branch B has no advisor
    assert rows.count() == Consultation.objects.count() == len(DEMO)
    assert set(rows.values_list("outcome", flat=True)) == {o for *_x, o in DEMO}
    assert not rows.filter(ended_at__isnull=True).exists()
    # The complaint is handed on to complaints at once (with the contact's phone): no hand-off
    # is left waiting, to be retried and logged as failed every ten minutes.
    assert not rows.filter(handoff_status=HandoffStatus.PENDING).exists()
    complained = rows.get(outcome="complaint")
    assert complained.handoff_status == HandoffStatus.DONE
    assert complained.handoff_ref.startswith("complaints.complaint:")
    answered = sum(1 for *_x, o in DEMO if o == "answered")
    assert rows.filter(articles=article).count() == answered
