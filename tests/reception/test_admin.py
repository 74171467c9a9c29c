"""Reception's admin: appointments are read only there and their booking contact is masked;
a half-set queue ratio is refused on the priority rule's form."""

import datetime as dt

import pytest
from django.urls import reverse

from bankservice.core.masking import mask_email
from reception.models import Appointment, AppointmentChannel, PriorityRule

from .fixtures import OPEN_AT

pytestmark = pytest.mark.django_db


def test_appointments_are_read_only_with_the_contact_masked(admin_client, branch_a, cash_service):
    appointment = Appointment.objects.create(
        branch=branch_a,
        service_type=cash_service,
        contact_name="Li Lei",
        contact_phone="+8613912345678",
        contact_email="li.lei@example.cn",
        starts_at=OPEN_AT,
        ends_at=OPEN_AT + dt.timedelta(minutes=15),
        channel=AppointmentChannel.PUBLIC,
    )
    listing = admin_client.get(reverse("admin:reception_appointment_changelist"))
    assert listing.status_code == 200
    page = admin_client.get(
        reverse("admin:reception_appointment_change", args=[appointment.pk])
    ).content.decode()
    assert "+86139****5678" in page
    assert mask_email("li.lei@example.cn") in page
    assert "13912345678" not in page
    assert "li.lei@" not in page
    assert appointment.reference not in page  # the customer's link is theirs alone
    assert 'name="_save"' not in page
    assert admin_client.get(reverse("admin:reception_appointment_add")).status_code == 403


def test_a_half_set_ratio_is_a_form_error(admin_client, branch_a):
    response = admin_client.post(
        reverse("admin:reception_priorityrule_add"),
        {
            "branch": branch_a.pk,
            "appointment_minutes": 15,
            "priority_segment_minutes": 5,
            "private_segment_minutes": 10,
            "elderly_minutes": 10,
            "disability_minutes": 15,
            "pregnant_minutes": 15,
            "transferred_minutes": 10,
            "max_wait_minutes": 45,
            "ratio_priority": 2,
            "ratio_standard": 0,
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert not PriorityRule.objects.exists()
    assert "Set both ratio numbers, or leave both at 0." in response.content.decode()
