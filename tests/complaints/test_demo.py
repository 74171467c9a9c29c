"""The demo complaints: a dozen in varied states through the services, made once."""

import pytest
from django.apps import apps

from bankservice.branches.models import BusinessCalendar
from bankservice.events.models import Event
from complaints.models import Complaint, CorrectiveAction, Letter
from tests.factories import BranchFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_bank(cn_pack, uk_pack, make_staff):
    shanghai = BranchFactory(code="sh-lujiazui", region=RegionFactory(code="east"))
    london = BranchFactory(
        code="uk-london",
        region=RegionFactory(code="uk"),
        time_zone="Europe/London",
        calendar=BusinessCalendar.objects.get(code="gb-eaw"),
    )
    for role in ("complaint_officer", "branch_manager", "teller"):
        make_staff(role, branch=shanghai, username=f"{role}.sh-lujiazui")
    make_staff("hq_manager", username="hq_manager")
    return [shanghai, london]


def test_the_demo_makes_complaints_in_varied_states_once(demo_bank):
    seed = apps.get_app_config("complaints").seed_demo

    first = seed(branches=demo_bank)

    assert first["rule pack assignments"] == 1
    assert first["complaints"] == 14
    statuses = set(Complaint.objects.values_list("status", flat=True))
    assert statuses >= {
        "received",
        "acknowledged",
        "investigating",
        "waiting_on_customer",
        "resolution_proposed",
        "resolved",
        "upheld",
        "rejected",
        "partially_upheld",
        "withdrawn",
    }
    assert Complaint.objects.filter(review_of__isnull=False).count() == 1
    assert Complaint.objects.filter(extensions__status="approved").count() == 1
    assert CorrectiveAction.objects.count() == 1
    kinds = set(Letter.objects.values_list("kind", flat=True))
    assert kinds >= {"acknowledgement", "extension_notice", "final_response", "summary_resolution"}
    assert Complaint.objects.filter(branch__code="uk-london", pack__code="uk").count() == 2
    assert set(Letter.objects.values_list("channel", flat=True)) == {"email", "sms"}
    # Contacts, not the demo customers (who have no history on purpose).
    assert not Complaint.objects.filter(customer__isnull=False).exists()
    assert not Event.objects.filter(customer__isnull=False).exists()

    again = seed(branches=demo_bank)
    assert again == {"rule pack assignments": 0, "complaints": 0}
    assert Complaint.objects.count() == 15  # 14 made and the review case
