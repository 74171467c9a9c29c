"""Suggestions: the queue at the asker's branch, unsure below the threshold, articles, the log,
and every process picking up a newly trained model."""

import pytest
from django.core.cache import cache

from bankservice.branches.models import Role
from bankservice.branches.services import membership_grant
from bankservice.core.errors import BadInput
from consultation.assistant.services import (
    VERSION_KEY,
    active_model,
    assistant_suggest,
    assistant_train,
    examples_from_csv,
    training_examples_import,
)
from consultation.models import Category, Intent, SearchLog
from tests.reception.factories import ServiceTypeFactory

LOST_CARD_ZH = "我的银行卡丢了，怎么挂失"


def test_routes_to_the_service_at_the_askers_branch(trained, teller, branch_services, branch_a):
    suggestion = assistant_suggest(principal=teller, text=LOST_CARD_ZH)
    assert not suggestion.unsure
    assert suggestion.label == "accounts"
    assert suggestion.service_type == branch_services["accounts"]  # branch A's, not B's
    assert suggestion.confidence >= 0.4
    log = SearchLog.objects.get()
    assert (log.source, log.user, log.branch_id, log.query) == (
        "assistant",
        teller,
        branch_a.pk,
        LOST_CARD_ZH,
    )


def test_another_branch_is_refused(trained, teller, branch_services, branch_b):
    with pytest.raises(BadInput) as caught:
        assistant_suggest(principal=teller, text=LOST_CARD_ZH, branch_id=branch_b.pk)
    assert caught.value.field == "branch"


def test_a_user_of_several_branches_routes_where_asked(
    trained, make_staff, branch_services, branch_a, branch_b
):
    user = make_staff(Role.GREETER, branch=branch_a, username="two-branches")
    membership_grant(user=user, role=Role.GREETER, branch=branch_b)
    at_b = assistant_suggest(principal=user, text=LOST_CARD_ZH, branch_id=branch_b.pk)
    assert at_b.service_type == branch_services["accounts-b"]
    nowhere = assistant_suggest(principal=user, text=LOST_CARD_ZH)  # which branch? none chosen
    assert (nowhere.service_code, nowhere.service_type) == ("accounts", None)


def test_a_service_the_branch_does_not_offer_gives_only_the_code(trained, teller, branch_a):
    ServiceTypeFactory(branch=branch_a, code="accounts", prefix="B", is_active=False)
    suggestion = assistant_suggest(principal=teller, text=LOST_CARD_ZH)
    assert (suggestion.service_code, suggestion.service_type) == ("accounts", None)


def test_unsure_below_the_threshold(trained, teller, branch_services, settings):
    settings.ASSISTANT_MIN_CONFIDENCE = 0.99
    suggestion = assistant_suggest(principal=teller, text=LOST_CARD_ZH)
    assert suggestion.unsure
    assert (suggestion.label, suggestion.service_code, suggestion.service_type) == (None, "", None)
    assert 0 < suggestion.confidence < 0.99
    assert SearchLog.objects.filter(source="assistant").count() == 1  # logged all the same


def test_unsure_without_a_model(db, teller):
    suggestion = assistant_suggest(principal=teller, text=LOST_CARD_ZH)
    assert suggestion.unsure and suggestion.model_id is None


@pytest.mark.parametrize("text", ["", "   ", "x" * 501])
def test_empty_or_long_questions_are_refused(db, teller, text):
    with pytest.raises(BadInput) as caught:
        assistant_suggest(principal=teller, text=text)
    assert caught.value.field == "text"


def test_an_intent_routes_to_its_service_and_learns_from_articles(
    db, teller, branch_services, training_rows, publish
):
    """Articles of the intent's category teach it: no example mentions foreign exchange."""
    fx = Category.objects.create(code="fx", name_zh="外汇", name_en="Foreign exchange")
    Intent.objects.create(code="fx-quota", service_code="cash", category=fx)
    for zh, en in [
        ("个人购汇额度是多少", "How much foreign currency can I buy a year"),
        ("购汇需要什么证件", "What ID do I need to buy foreign currency"),
    ]:
        publish(category=fx, title_zh=zh, title_en=en, body_zh="每人每年五万美元。")
    training_examples_import(actor=None, examples=training_rows, source="test")
    model = assistant_train(actor=None)
    assert model.metrics["article_examples"] == 4
    suggestion = assistant_suggest(principal=teller, text="购汇额度是多少？")
    assert suggestion.alternatives[0].label == "fx-quota"
    if not suggestion.unsure:
        assert suggestion.intent.code == "fx-quota"
        assert suggestion.service_type == branch_services["cash"]
    assert suggestion.articles and suggestion.articles[0].category == "fx"


def test_a_new_model_is_picked_up_and_loaded_once(
    trained, teller, django_assert_num_queries, django_capture_on_commit_callbacks
):
    first_id, first = active_model()
    assert first_id == trained.pk
    with django_assert_num_queries(0):  # the version from the cache, the model in memory
        assert active_model()[1] is first

    training_examples_import(
        actor=None,
        examples=examples_from_csv(
            "text,label\nI want to speak to a manager,manager\n我要找你们经理,manager\n"
        ),
        source="test",
    )
    with django_capture_on_commit_callbacks(execute=True):
        newer = assistant_train(actor=None)
    newer_id, backend = active_model()
    assert newer_id == newer.pk and backend is not first
    assert "manager" in backend.pipeline.classes_

    cache.delete(VERSION_KEY)  # another process, a cold cache: one query finds the newest
    with django_assert_num_queries(1):
        assert active_model()[1] is backend
