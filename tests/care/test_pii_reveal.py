"""The callbacks API shows the customer's full phone number only to a role holding
customers.reveal_pii, and each look is audited (customer.pii_revealed)."""

# ruff: noqa: F811 (the fixtures imported below are parameters of the test)

from bankservice.events.models import Event

from .callback_fixtures import (  # noqa: F401 (fixtures)
    _care_registered,
    agent,
    customer,
    make_callback,
    now,
)


def test_the_api_audits_a_full_phone_number_and_not_a_masked_one(
    api, agent, make_staff, region, customer, make_callback
):
    callback = make_callback()
    api.force_authenticate(make_staff("regional_manager", region=region, username="regional"))
    assert api.get("/api/v1/callbacks").json()["results"][0]["customer_phone"] != customer.phone
    assert not Event.objects.filter(type="customer.pii_revealed").exists()

    api.force_authenticate(agent)
    url = f"/api/v1/callbacks/{callback.pk}"
    assert api.get(url).json()["customer_phone"] == customer.phone
    event = Event.objects.get(type="customer.pii_revealed")
    assert (event.actor_user, event.customer, event.branch) == (agent, customer, callback.branch)
    assert event.subject_id == str(callback.pk)
    assert event.payload == {"fields": ["phone"], "where": url}
