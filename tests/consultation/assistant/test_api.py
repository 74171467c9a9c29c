"""POST /api/v1/assistant/suggest: permission, branch scope, bad input, the answer, queries."""

import pytest
from django.core.management import call_command

from bankservice.branches.models import Role
from consultation.models import Category

URL = "/api/v1/assistant/suggest"
LOST_CARD = {"text": "I lost my bank card and it needs blocking"}


def test_suggests_queue_and_articles(trained, api, teller, branch_services, publish):
    cards = Category.objects.create(code="cards", name_zh="银行卡", name_en="Cards")
    article = publish(
        cards,
        title_en="Report a lost bank card",
        body_en="A lost bank card is blocked at once: call us.",
    )
    api.force_authenticate(teller)
    response = api.post(URL, LOST_CARD, format="json")
    assert response.status_code == 200
    body = response.json()
    service = branch_services["accounts"]
    assert body["intent"] == "accounts" and body["unsure"] is False
    assert 0.4 <= body["confidence"] <= 1
    assert body["service_code"] == "accounts"
    assert body["service_type"] == {"id": service.pk, "code": "accounts", "name": service.name}
    assert body["articles"][0]["id"] == article.pk
    assert "<mark>" in body["articles"][0]["snippet"]
    assert set(body["articles"][0]) == {"id", "title", "snippet", "score"}


def test_query_count_is_fixed(trained, api, teller, branch_services, django_assert_max_num_queries):
    api.force_authenticate(teller)
    api.post(URL, LOST_CARD, format="json")  # the model is loaded once per process
    with django_assert_max_num_queries(10):
        assert api.post(URL, LOST_CARD, format="json").status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "x" * 501}, "text"),
        ({}, "text"),
        ({"text": "hi", "branch": "x"}, "branch"),
    ],
)
def test_bad_input_is_a_field_error(db, api, teller, data, field):
    api.force_authenticate(teller)
    response = api.post(URL, data, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_another_branch_is_a_field_error(trained, api, teller, branch_services, branch_b):
    api.force_authenticate(teller)
    response = api.post(URL, {**LOST_CARD, "branch": branch_b.pk}, format="json")
    assert response.status_code == 400
    assert "branch" in response.json()


def test_needs_the_knowledge_base_permission(db, api, make_staff, branch_a):
    assert api.post(URL, LOST_CARD, format="json").status_code in {401, 403}
    nobody = make_staff(Role.GREETER, branch=branch_a, username="no-role")
    nobody.memberships.all().delete()
    api.force_authenticate(nobody)
    assert api.post(URL, LOST_CARD, format="json").status_code == 403


def test_api_clients_need_the_consultation_scope(trained, make_api_client, branch_a):
    without = make_api_client(["reception:read"], branches=[branch_a])
    assert without.post(URL, LOST_CARD, format="json").status_code == 403
    with_scope = make_api_client(["consultation:read"], branches=[branch_a])
    response = with_scope.post(URL, LOST_CARD, format="json")
    assert response.status_code == 200
    assert response.json()["intent"] == "accounts"


def test_the_schema_describes_it(db, tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/assistant/suggest:" in text
    assert "operationId: assistant_suggest" in text


def test_rate_limited_per_person(trained, api, teller, settings):
    settings.ASSISTANT_API_RATE = "2/min"
    api.force_authenticate(teller)
    assert [api.post(URL, LOST_CARD, format="json").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
