"""Request-type definitions: what an administrator may write, publishing versions (the admin goes
through the same service), bundles, the demo definitions."""

import copy
import json

import pytest

from bankservice.branches.models import Role
from bankservice.events.models import Event
from tests.concurrency import run_together
from tests.conftest import requires_postgres
from transactions import demo
from transactions.eforms import (
    DefinitionErrors,
    definition_validate,
    request_type_version_publish,
    shared_fields_validate,
)
from transactions.models import Bundle, RequestType, RequestTypeVersion


def definition(source=demo.LARGE_WITHDRAWAL):
    return copy.deepcopy(
        {k: source[k] for k in ("form_schema", "ui_schema", "documents", "approval_rules")}
    )


def problems_of(changed):
    with pytest.raises(DefinitionErrors) as caught:
        definition_validate(**changed)
    return caught.value.errors


def test_fixtures_install_current_versions(open_account_type, withdrawal_type, new_customer_bundle):
    assert open_account_type.versions.get(is_current=True).number == 1
    assert RequestTypeVersion.objects.filter(is_current=True).count() == 3 + 1
    assert list(new_customer_bundle.items.values_list("request_type__code", flat=True)) == [
        "open_account",
        "activate_card",
        "mobile_banking",
    ]


def test_every_demo_definition_is_valid():
    for source in demo.REQUEST_TYPES:
        definition_validate(**definition(source))


def test_the_demo_seed_is_idempotent(db):
    first = demo.seed_demo(branches=[])
    assert first == {"request type versions": len(demo.REQUEST_TYPES)}
    assert demo.seed_demo(branches=[]) == {"request type versions": 0}
    bundle = Bundle.objects.get(code="new_customer")
    assert bundle.shared_fields == ["full_name", "national_id", "phone", "email"]
    assert bundle.items.count() == 3


def test_publishing_keeps_the_old_version(withdrawal_type, teller):
    first = withdrawal_type.versions.get(is_current=True)
    changed = definition()
    changed["approval_rules"][0]["when"] = {"amount_gte": "100000"}
    second = request_type_version_publish(
        actor=teller, request_type=withdrawal_type, sla_policy="transactions.1d", **changed
    )
    first.refresh_from_db()
    assert (second.number, second.is_current, second.created_by) == (2, True, teller)
    assert (first.number, first.is_current) == (1, False)
    assert first.approval_rules[0]["when"] == {"amount_gte": "50000"}
    event = Event.objects.filter(type="transactions.request_type_published").latest("id")
    assert event.payload == {"code": "large_withdrawal", "version": 2}
    assert event.actor_user == teller


def test_an_unknown_sla_policy_is_refused(withdrawal_type):
    with pytest.raises(DefinitionErrors) as caught:
        request_type_version_publish(
            actor=None, request_type=withdrawal_type, sla_policy="forever", **definition()
        )
    assert list(caught.value.errors) == ["sla_policy"]
    assert withdrawal_type.versions.count() == 1


def _set(path, value):
    def change(d):
        *parents, last = path
        target = d
        for key in parents:
            target = target[key]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value

    return change


def _add_field(name, schema):
    def change(d):
        d["form_schema"]["properties"][name] = schema
        d["ui_schema"]["sections"][1]["fields"].append(name)
        d["ui_schema"]["fields"][name] = {"label": {"en": name, "zh": name}}

    return change


DELETE = object()
PROPS = ("form_schema", "properties")
FIELDS_UI = ("ui_schema", "fields")


@pytest.mark.parametrize(
    ("change", "part", "words"),
    [
        (_set((*PROPS, "purpose", "format"), "iban"), "form_schema", "unknown format iban"),
        (
            _set((*PROPS, "purpose", "exclusiveMaximum"), 3),
            "form_schema",
            "the browser cannot check exclusiveMaximum",
        ),
        (_set((*PROPS, "purpose", "pattern"), "[a-z]+"), "form_schema", "anchored"),
        (_set((*PROPS, "purpose", "pattern"), "^[a-z+$"), "form_schema", "not a 'regex'"),
        (_set((*PROPS, "purpose", "pattern"), r"^A\-B$"), "form_schema", "cannot read"),
        (_set((*PROPS, "purpose", "pattern"), r"^[A-Z-]+$"), "form_schema", "cannot read"),
        (_set((*PROPS, "purpose", "pattern"), r"^[(A)]+$"), "form_schema", "cannot read"),
        (_set((*PROPS, "purpose", "type"), "array"), "form_schema", "the type must be"),
        (_set((*PROPS, "purpose", "minLength"), -1), "form_schema", "Not a valid JSON Schema"),
        (_set(("form_schema", "required"), ["nope"]), "form_schema", "do not exist: nope"),
        (
            _set((*PROPS, "amount", "currencies"), ["XAU"]),
            "form_schema",
            "currencies must be among",
        ),
        (_set((*PROPS, "amount", "maxAmount"), "lots"), "form_schema", "maxAmount is an amount"),
        (
            _add_field("count", {"type": "integer", "minimum": 500, "multipleOf": 1000}),
            "form_schema",
            "minimum must be a multiple",
        ),
        (
            _add_field("agree", {"type": "boolean", "const": False}),
            "form_schema",
            "can only be required to be ticked",
        ),
        (_set((*FIELDS_UI, "purpose", "label"), {"en": "Purpose"}), "ui_schema", "English and"),
        (_set((*FIELDS_UI, "ghost"), {}), "ui_schema", "does not have: ghost"),
        (
            _set((*FIELDS_UI, "purpose", "show_if"), {"field": "ghost", "equals": 1}),
            "ui_schema",
            "a condition is",
        ),
        (_set((*FIELDS_UI, "purpose", "widget"), "radio"), "ui_schema", "does not suit"),
        (_set(("ui_schema", "prefill", "purpose"), "customer.password"), "ui_schema", "Prefill"),
        (_set(("ui_schema", "amount_field"), "purpose"), "ui_schema", "must be a money field"),
        (
            _set(("ui_schema", "sections", 1, "fields"), ["account_number"]),
            "ui_schema",
            "no section",
        ),
        (_set(("documents", 0, "required"), "yes"), "documents", "A document is"),
        (lambda d: d["documents"].append(dict(demo.ID_COPY)), "documents", "same code"),
        (_set(("approval_rules", 0, "levels"), ["janitor"]), "approval_rules", "levels are"),
        (_set(("approval_rules", 0, "when"), {"weekday": 1}), "approval_rules", "conditions are"),
        (
            _set(("approval_rules", 0, "when"), {"segment_in": ["vip"]}),
            "approval_rules",
            "segments are",
        ),
        (
            _set(("ui_schema", "amount_field"), DELETE),
            "approval_rules",
            "amount conditions need an amount field",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_definitions_are_refused_where_they_are_wrong(change, part, words):
    changed = definition()
    change(changed)
    errors = problems_of(changed)
    assert part in errors, errors
    assert any(words in message for message in errors[part]), errors[part]


def test_a_conditional_field_cannot_depend_on_a_conditional_field():
    changed = definition(demo.OPEN_ACCOUNT)
    changed["ui_schema"]["fields"]["initial_deposit"]["show_if"] = {
        "field": "purpose_other",
        "equals": "x",
    }
    assert "cannot be conditional itself" in problems_of(changed)["ui_schema"][0]


def test_a_textarea_cannot_have_a_pattern():
    # The browser ignores pattern on a textarea: the server alone would check it.
    changed = definition(demo.OPEN_ACCOUNT)
    changed["form_schema"]["properties"]["address"]["pattern"] = "^.+$"
    assert "does not suit" in problems_of(changed)["ui_schema"][0]


def test_shared_fields_must_mean_the_same_everywhere(
    open_account_type, activate_card_type, withdrawal_type
):
    types = [open_account_type, activate_card_type]
    shared_fields_validate(request_types=types, shared_fields=["phone", "email"])
    with pytest.raises(DefinitionErrors) as caught:
        shared_fields_validate(request_types=types, shared_fields=["amount"])
    assert caught.value.errors["shared_fields"] == [
        "amount is a field of none of the bundle's request types."
    ]
    changed = definition(demo.ACTIVATE_CARD)
    changed["form_schema"]["properties"]["phone"] = {"type": "string", "maxLength": 20}
    request_type_version_publish(
        actor=None, request_type=activate_card_type, sla_policy="transactions.4h", **changed
    )
    with pytest.raises(DefinitionErrors) as caught:
        shared_fields_validate(request_types=types, shared_fields=["phone"])
    assert "not the same field" in caught.value.errors["shared_fields"][0]


# --- The admin.


@pytest.fixture
def admin_client(client, make_staff):
    client.force_login(make_staff(Role.ADMIN, username="config-admin"))
    return client


def _post_data(request_type, **changes):
    version = request_type.versions.get(is_current=True)
    data = {
        "code": request_type.code,
        "name_zh": request_type.name_zh,
        "name_en": request_type.name_en,
        "service_code": request_type.service_code,
        "is_active": "on",
        "sort_order": request_type.sort_order,
        "sla_policy": version.sla_policy,
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
    }
    for part in ("form_schema", "ui_schema", "documents", "approval_rules"):
        data[part] = json.dumps(getattr(version, part), ensure_ascii=False)
    data.update(changes)
    return data


def test_the_admin_shows_the_current_definition(admin_client, withdrawal_type):
    response = admin_client.get(f"/admin/transactions/requesttype/{withdrawal_type.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.initial["approval_rules"][0]["levels"] == ["approver", "branch_manager"]
    assert form.initial["sla_policy"] == "transactions.4h"


def test_editing_a_definition_in_the_admin_publishes_a_new_version(admin_client, withdrawal_type):
    url = f"/admin/transactions/requesttype/{withdrawal_type.pk}/change/"
    rules = [{"when": {"always": True}, "levels": ["approver"]}]
    response = admin_client.post(
        url, _post_data(withdrawal_type, approval_rules=json.dumps(rules), name_en="Big cash")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    current = withdrawal_type.versions.get(is_current=True)
    assert (current.number, current.approval_rules) == (2, rules)
    assert current.created_by.username == "config-admin"
    assert RequestType.objects.get(pk=withdrawal_type.pk).name_en == "Big cash"

    # Saving again without a change of definition publishes nothing.
    response = admin_client.post(url, _post_data(withdrawal_type, name_en="Large cash"))
    assert response.status_code == 302
    assert withdrawal_type.versions.count() == 2


def test_a_bad_definition_is_a_form_error_and_publishes_nothing(admin_client, withdrawal_type):
    url = f"/admin/transactions/requesttype/{withdrawal_type.pk}/change/"
    rules = [{"when": {"always": True}, "levels": ["janitor"]}]
    response = admin_client.post(
        url,
        _post_data(withdrawal_type, approval_rules=json.dumps(rules), name_en="Renamed"),
    )
    assert response.status_code == 200
    assert "approval_rules" in response.context["adminform"].form.errors
    response = admin_client.post(url, _post_data(withdrawal_type, ui_schema="{not json"))
    assert response.status_code == 200
    assert "ui_schema" in response.context["adminform"].form.errors
    assert withdrawal_type.versions.count() == 1
    assert RequestType.objects.get(pk=withdrawal_type.pk).name_en == "Large cash withdrawal"


def test_a_new_request_type_is_added_with_its_first_version(admin_client):
    source = demo.CARD_LOSS
    data = {
        "code": "card_loss_2",
        "name_zh": source["name_zh"],
        "name_en": source["name_en"],
        "service_code": "accounts",
        "is_active": "on",
        "sort_order": 9,
        "sla_policy": "transactions.4h",
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
        **{part: json.dumps(value) for part, value in definition(source).items()},
    }
    response = admin_client.post("/admin/transactions/requesttype/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    version = RequestTypeVersion.objects.get(request_type__code="card_loss_2")
    assert (version.number, version.is_current) == (1, True)


def test_versions_are_read_only_in_the_admin(admin_client, withdrawal_type):
    version = withdrawal_type.versions.get()
    url = f"/admin/transactions/requesttypeversion/{version.pk}/change/"
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "branch_manager" in response.content.decode()  # the rules, shown
    response = admin_client.post(url, {"sla_policy": "transactions.5d"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.sla_policy == "transactions.4h"


def test_a_bundle_with_a_foreign_shared_field_is_refused(
    admin_client, open_account_type, activate_card_type
):
    data = {
        "code": "starter",
        "name_zh": "入门",
        "name_en": "Starter",
        "shared_fields": '["phone", "amount"]',
        "is_active": "on",
        "items-TOTAL_FORMS": 2,
        "items-INITIAL_FORMS": 0,
        "items-0-request_type": open_account_type.pk,
        "items-0-position": 0,
        "items-1-request_type": activate_card_type.pk,
        "items-1-position": 1,
    }
    response = admin_client.post("/admin/transactions/bundle/add/", data)
    assert response.status_code == 200
    assert "amount is a field of none" in response.content.decode()
    assert not Bundle.objects.exists()
    response = admin_client.post(
        "/admin/transactions/bundle/add/", {**data, "shared_fields": '["phone"]'}
    )
    assert response.status_code == 302
    assert list(Bundle.objects.get().items.values_list("request_type__code", flat=True)) == [
        "open_account",
        "activate_card",
    ]


# --- Two administrators at once.


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_publications_get_their_own_numbers():
    request_type = demo.request_type_install(copy.deepcopy(demo.CARD_LOSS))

    def publish():
        return request_type_version_publish(
            actor=None, request_type=request_type, sla_policy="transactions.4h", **definition()
        ).number

    results = run_together(publish, publish, publish)
    assert sorted(results) == [2, 3, 4], results
    assert request_type.versions.filter(is_current=True).get().number == 4
