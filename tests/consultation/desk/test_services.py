"""Consultation services: start (from a ticket, standalone), update, close and its guards,
referral to another advisor."""

import pytest
from django.core.exceptions import PermissionDenied

from bankservice.branches.models import Role
from bankservice.core.errors import BadInput, Conflict
from bankservice.events.models import Event
from consultation.models import Consultation, ConsultationStatus, HandoffStatus
from consultation.services import (
    NotOpen,
    consultation_close,
    consultation_start,
    consultation_update,
)

from .conftest import publish_article

pytestmark = pytest.mark.django_db


def events(consultation, type_=None):
    rows = Event.objects.filter(subject_id=str(consultation.pk), type__startswith="consultation.")
    return list(rows.filter(type=type_) if type_ else rows.order_by("id"))


# --- Start ---------------------------------------------------------------------------------


def test_start_from_the_served_ticket_carries_the_journey(serving_ticket, teller, customer):
    consultation = consultation_start(actor=teller, ticket=serving_ticket.pk)

    assert consultation.channel == "counter"
    assert consultation.branch_id == serving_ticket.branch_id
    assert consultation.ticket_id == serving_ticket.pk
    assert consultation.visit_id == serving_ticket.visit_id
    assert consultation.customer == customer
    assert consultation.advisor == teller
    assert consultation.status == ConsultationStatus.OPEN
    (started,) = events(consultation, "consultation.started")
    assert started.payload["ticket"] == serving_ticket.number
    assert started.customer == customer


def test_a_second_start_for_the_same_ticket_is_refused(serving_ticket, teller):
    consultation_start(actor=teller, ticket=serving_ticket)
    with pytest.raises(Conflict, match="already have an open consultation"):
        consultation_start(actor=teller, ticket=serving_ticket)


def test_only_the_ticket_being_served_at_my_counter_starts_one(
    issue_tickets, open_counter, teller, make_staff, branch_a
):
    (waiting,) = issue_tickets(1)
    with pytest.raises(Conflict, match="ticket you are serving"):
        consultation_start(actor=teller, ticket=waiting)
    other_teller = make_staff(Role.TELLER, branch=branch_a, username="teller-a2")
    with pytest.raises(Conflict):
        consultation_start(actor=other_teller, ticket=waiting)
    assert not Consultation.objects.exists()


def test_a_ticket_of_another_branch_is_not_found(serving_ticket, make_staff, branch_b):
    stranger = make_staff(Role.TELLER, branch=branch_b)
    with pytest.raises(BadInput) as refused:
        consultation_start(actor=stranger, ticket=serving_ticket)
    assert refused.value.field == "ticket"


def test_standalone_with_a_contact_normalises_the_phone(advisor, branch_a):
    consultation = consultation_start(
        actor=advisor,
        channel="chat",
        branch=branch_a,
        contact_name=" Li Lei ",
        contact_phone="139 1234 5678",
        question="Opening hours on Saturday?",
    )
    assert consultation.customer is None
    assert consultation.contact_name == "Li Lei"
    assert consultation.contact_phone == "+8613912345678"
    assert consultation.ticket is None and consultation.visit is None
    assert consultation.channel == "chat"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "phone"}, "customer"),  # neither a customer nor a contact
        ({"channel": "counter", "contact_name": "A"}, "channel"),  # counter: from a ticket
        ({"channel": "phone", "contact_phone": "12"}, "contact_phone"),
    ],
)
def test_standalone_bad_input_names_the_field(advisor, branch_a, kwargs, field):
    with pytest.raises(BadInput) as refused:
        consultation_start(actor=advisor, branch=branch_a, **kwargs)
    assert refused.value.field == field


def test_starting_needs_the_permission_at_that_branch(make_staff, branch_a, branch_b, customer):
    advisor_b = make_staff(Role.ADVISOR, branch=branch_b)
    with pytest.raises(PermissionDenied):
        consultation_start(actor=advisor_b, channel="phone", branch=branch_a, customer=customer)
    processor = make_staff(Role.PROCESSOR, branch=branch_a)  # may read, not hold one
    with pytest.raises(PermissionDenied):
        consultation_start(actor=processor, channel="phone", branch=branch_a, customer=customer)


# --- Update --------------------------------------------------------------------------------


def test_update_records_what_changed_and_counts_newly_attached_articles(
    phone_consultation, advisor, topic, product, article
):
    consultation_update(
        actor=advisor,
        consultation=phone_consultation,
        data={
            "notes": "Explained the six-purchase rule.",
            "topics": [topic],
            "products": [product],
            "articles": [article],
        },
    )
    # The same articles again: nothing new is counted, nothing changed is recorded.
    consultation_update(
        actor=advisor, consultation=phone_consultation, data={"articles": [article]}
    )

    phone_consultation.refresh_from_db()
    assert phone_consultation.notes == "Explained the six-purchase rule."
    assert list(phone_consultation.articles.all()) == [article]
    article.refresh_from_db()
    assert article.use_count == 1
    (updated,) = events(phone_consultation, "consultation.updated")
    assert updated.payload["fields"] == ["notes", "topics", "products", "articles"]
    assert updated.payload["articles_attached"] == [article.pk]
    assert updated.payload["topics"] == ["cards"]


def test_an_unpublished_article_cannot_be_attached(phone_consultation, advisor, article):
    article.published = None
    article.save(update_fields=["published"])
    with pytest.raises(BadInput) as refused:
        consultation_update(
            actor=advisor, consultation=phone_consultation, data={"articles": [article]}
        )
    assert refused.value.field == "articles"


# --- Close ---------------------------------------------------------------------------------


def test_close_records_the_outcome_with_what_later_stages_need(
    phone_consultation, advisor, topic, product, customer
):
    consultation_update(
        actor=advisor,
        consultation=phone_consultation,
        data={"topics": [topic], "products": [product]},
    )
    closed = consultation_close(
        actor=advisor, consultation=phone_consultation, outcome="answered", outcome_note="ok"
    )

    assert closed.status == ConsultationStatus.CLOSED
    assert closed.ended_at is not None
    assert closed.handoff_status == HandoffStatus.NONE
    (event,) = events(closed, "consultation.closed")
    assert event.customer == customer
    assert event.payload["outcome"] == "answered"
    assert event.payload["customer"] == customer.pk
    assert event.payload["advisor"] == advisor.pk
    assert event.payload["topics"] == ["cards"]
    assert event.payload["products"] == ["credit-card"]


def test_close_needs_an_outcome(phone_consultation, advisor):
    for outcome in ("", "maybe"):
        with pytest.raises(BadInput) as refused:
            consultation_close(actor=advisor, consultation=phone_consultation, outcome=outcome)
        assert refused.value.field == "outcome"
    assert Consultation.objects.get().status == ConsultationStatus.OPEN


def test_a_closed_consultation_is_not_closed_or_changed_again(phone_consultation, advisor):
    consultation_close(actor=advisor, consultation=phone_consultation, outcome="answered")
    with pytest.raises(NotOpen):
        consultation_close(actor=advisor, consultation=phone_consultation, outcome="complaint")
    with pytest.raises(NotOpen):
        consultation_update(actor=advisor, consultation=phone_consultation, data={"notes": "x"})
    assert Consultation.objects.get().outcome == "answered"
    assert len(events(phone_consultation, "consultation.closed")) == 1


def test_only_the_advisor_or_a_branch_manager_closes(
    phone_consultation, teller, manager, make_staff, branch_b
):
    with pytest.raises(PermissionDenied):  # a colleague at the branch
        consultation_close(actor=teller, consultation=phone_consultation, outcome="answered")
    manager_b = make_staff(Role.BRANCH_MANAGER, branch=branch_b)
    with pytest.raises(PermissionDenied):  # a manager of another branch
        consultation_close(actor=manager_b, consultation=phone_consultation, outcome="answered")

    closed = consultation_close(actor=manager, consultation=phone_consultation, outcome="answered")
    assert closed.status == ConsultationStatus.CLOSED
    assert events(closed, "consultation.closed")[0].actor_user == manager


# --- Referral ------------------------------------------------------------------------------


def test_referral_opens_the_next_consultation_on_the_same_journey(
    serving_ticket, teller, other_advisor, topic
):
    first = consultation_start(actor=teller, ticket=serving_ticket)
    consultation_update(
        actor=teller,
        consultation=first,
        data={"question": "Which fund suits a pension?", "topics": [topic]},
    )
    closed = consultation_close(
        actor=teller, consultation=first, outcome="advisor", referred_to=other_advisor
    )

    successor = Consultation.objects.get(advisor=other_advisor)
    assert successor.status == ConsultationStatus.OPEN
    assert successor.question == "Which fund suits a pension?"
    assert list(successor.topics.all()) == [topic]
    assert (successor.ticket_id, successor.visit_id) == (first.ticket_id, first.visit_id)
    assert successor.customer_id == first.customer_id
    assert closed.referred_to == other_advisor
    assert closed.handoff_status == HandoffStatus.DONE
    assert closed.handoff_ref == f"consultation.consultation:{successor.pk}"
    (started,) = events(successor, "consultation.started")
    assert started.payload["referred_from"] == first.pk


@pytest.mark.parametrize("who", ["nobody", "self", "teller"])
def test_referral_needs_another_advisor_of_the_branch(phone_consultation, advisor, teller, who):
    referred_to = {"nobody": None, "self": advisor, "teller": teller}[who]
    with pytest.raises(BadInput) as refused:
        consultation_close(
            actor=advisor,
            consultation=phone_consultation,
            outcome="advisor",
            referred_to=referred_to,
        )
    assert refused.value.field == "referred_to"
    assert Consultation.objects.count() == 1


def test_publish_article_helper_makes_searchable_articles(topic, advisor):
    # The fixture data the page tests rely on: found by a Chinese phrase inside a sentence.
    from consultation.kb.search import search_articles

    found = publish_article(
        topic=topic,
        owner=advisor,
        title_en="Lost card",
        body_en="Call us.",
        title_zh="挂失银行卡",
        body_zh="银行卡丢失后请立即致电挂失。",
    )
    assert [hit.article_id for hit in search_articles("卡丢失")] == [found.pk]
