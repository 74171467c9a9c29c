"""The consultation API: list (filters, masking, fixed queries), retrieve, create, PATCH, close;
scope (404), roles and API keys (403), bad input (400) and closed ones (409)."""

import pytest

from bankservice.branches.models import Role
from consultation.models import Consultation, ConsultationStatus, HandoffStatus
from consultation.services import consultation_close, consultation_start

pytestmark = pytest.mark.django_db

URL = "/api/v1/consultations"


def one(consultation):
    return f"{URL}/{consultation.pk}"


def test_list_filters_and_masks(api, advisor, branch_a, make_staff):
    phone = consultation_start(
        actor=advisor,
        channel="phone",
        branch=branch_a,
        contact_name="Li Lei",
        contact_phone="+8613912345678",
    )
    chat = consultation_start(actor=advisor, channel="chat", branch=branch_a, contact_name="Han")
    consultation_close(actor=advisor, consultation=chat, outcome="answered")

    api.force_authenticate(make_staff(Role.GREETER, branch=branch_a))
    rows = api.get(URL).json()["results"]
    assert [row["id"] for row in rows] == [chat.pk, phone.pk]
    assert rows[1]["name"] == "Li Lei"
    assert rows[1]["phone"] == "+86139****5678"
    assert [r["id"] for r in api.get(URL, {"channel": "phone"}).json()["results"]] == [phone.pk]
    assert [r["id"] for r in api.get(URL, {"outcome": "answered"}).json()["results"]] == [chat.pk]
    assert api.get(URL, {"channel": "fax"}).status_code == 400

    api.force_authenticate(advisor)
    assert api.get(one(phone)).json()["phone"] == "+8613912345678"


def test_list_costs_the_same_queries_for_more_rows(
    api, advisor, branch_a, customer, topic, django_assert_max_num_queries
):
    api.force_authenticate(advisor)

    def add(n):
        for _i in range(n):
            c = consultation_start(
                actor=advisor, channel="phone", branch=branch_a, customer=customer
            )
            c.topics.add(topic)

    add(2)
    with django_assert_max_num_queries(7) as few:
        api.get(URL)
    add(15)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get(URL).json()["results"]) == 17


def test_create_standalone_and_from_the_served_ticket(
    api, advisor, teller, branch_a, customer, serving_ticket
):
    api.force_authenticate(advisor)
    response = api.post(
        URL,
        {"channel": "video", "branch": branch_a.code, "customer": customer.pk, "question": "Fund?"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["customer"] == customer.pk
    assert response.json()["advisor"] == advisor.pk

    api.force_authenticate(teller)
    response = api.post(URL, {"ticket": serving_ticket.pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["channel"], body["ticket"], body["visit"]) == (
        "counter",
        serving_ticket.pk,
        serving_ticket.visit_id,
    )
    assert api.post(URL, {"ticket": serving_ticket.pk}, format="json").status_code == 409


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"channel": "phone", "branch": "a01"}, "customer"),
        ({"channel": "phone", "branch": "b01", "contact_name": "X"}, "branch"),  # not mine
        ({"channel": "phone", "branch": "a01", "contact_email": "nope"}, "contact_email"),
        ({"channel": "pigeon", "branch": "a01", "contact_name": "X"}, "channel"),
    ],
)
def test_create_bad_input_is_400_with_the_field(api, advisor, branch_b, payload, field):
    api.force_authenticate(advisor)
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_patch_and_close(api, advisor, phone_consultation, topic, product, article):
    api.force_authenticate(advisor)
    response = api.patch(
        one(phone_consultation),
        {
            "notes": "Explained.",
            "topics": ["cards"],
            "products": ["credit-card"],
            "articles": [article.pk],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["topics"] == ["cards"]
    assert response.json()["articles"] == [article.pk]
    assert (
        api.patch(one(phone_consultation), {"topics": ["nope"]}, format="json").status_code == 400
    )
    assert api.put(one(phone_consultation), {}, format="json").status_code == 405

    close = f"{one(phone_consultation)}/close"
    assert api.post(close, {}, format="json").status_code == 400  # the outcome is required
    response = api.post(close, {"outcome": "follow_up"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == ConsultationStatus.CLOSED
    assert response.json()["handoff_status"] == HandoffStatus.PENDING
    again = api.post(close, {"outcome": "answered"}, format="json")
    assert again.status_code == 409
    assert "detail" in again.json()
    assert api.patch(one(phone_consultation), {"notes": "x"}, format="json").status_code == 409


def test_referral_over_the_api(api, advisor, other_advisor, teller, phone_consultation):
    api.force_authenticate(advisor)
    close = f"{one(phone_consultation)}/close"
    refused = api.post(close, {"outcome": "advisor", "referred_to": teller.pk}, format="json")
    assert refused.status_code == 400 and "referred_to" in refused.json()
    response = api.post(
        close, {"outcome": "advisor", "referred_to": other_advisor.pk}, format="json"
    )
    assert response.status_code == 200
    assert Consultation.objects.filter(advisor=other_advisor, status="open").count() == 1


def test_scope_roles_and_keys(
    api, phone_consultation, make_staff, branch_a, branch_b, teller, make_api_client
):
    api.force_authenticate(make_staff(Role.ADVISOR, branch=branch_b))
    assert api.get(one(phone_consultation)).status_code == 404
    assert api.post(f"{one(phone_consultation)}/close", {"outcome": "answered"}).status_code == 404

    api.force_authenticate(make_staff(Role.PROCESSOR, branch=branch_a))
    assert api.get(one(phone_consultation)).status_code == 200
    assert api.post(f"{one(phone_consultation)}/close", {"outcome": "answered"}).status_code == 403

    api.force_authenticate(teller)  # may hold consultations, but not close someone else's
    response = api.post(f"{one(phone_consultation)}/close", {"outcome": "answered"}, format="json")
    assert response.status_code == 403

    key = make_api_client(["consultation:read"], branches=[branch_a])
    assert key.get(one(phone_consultation)).status_code == 200
    created = key.post(URL, {"channel": "phone", "branch": "a01", "contact_name": "X"})
    assert created.status_code == 403
    other_key = make_api_client(["consultation:read"], branches=[branch_b], name="other")
    assert other_key.get(one(phone_consultation)).status_code == 404
    assert make_api_client(["customers:read"], branches=[branch_a]).get(URL).status_code == 403
