"""A consultation's full phone and e-mail (the customer's or the contact's), on its pages and in
the API, are shown only to a role holding customers.reveal_pii, and each look is audited."""

from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.events.models import Event
from consultation.services import consultation_start


def revealed():
    return Event.objects.filter(type="customer.pii_revealed")


def test_pages_and_api_audit_a_full_view_and_not_a_masked_one(
    client, api, advisor, branch_a, customer, make_staff
):
    consultation = consultation_start(
        actor=advisor, channel="phone", branch=branch_a, customer=customer
    )
    page = reverse("consultation:detail", args=[consultation.pk])
    greeter = make_staff(Role.GREETER, branch=branch_a)  # no reveal_pii
    client.force_login(greeter)
    assert customer.phone not in client.get(page).content.decode()
    api.force_authenticate(greeter)
    assert api.get(f"/api/v1/consultations/{consultation.pk}").json()["phone"] != customer.phone
    assert not revealed().exists()

    client.force_login(advisor)
    assert customer.phone in client.get(page).content.decode()
    event = revealed().get()
    assert (event.actor_user, event.customer, event.branch) == (advisor, customer, branch_a)
    assert event.subject_id == str(consultation.pk)
    assert event.payload == {"fields": ["email", "phone"], "where": page}

    # The list shows it twice (my open ones, the branch's): one event for the response.
    assert customer.phone in client.get(reverse("consultation:list")).content.decode()
    assert revealed().count() == 2

    api.force_authenticate(advisor)
    assert api.get("/api/v1/consultations").json()["results"][0]["phone"] == customer.phone
    event = revealed().latest("id")
    assert event.customer == customer and event.payload["where"] == "/api/v1/consultations"
    assert revealed().count() == 3
