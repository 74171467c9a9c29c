"""Consultation pages: lists (filters, masking, fixed queries), new, start from the counter
console, the consultation screen (journey, search, attach, close, history), scope and roles."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from bankservice.branches.models import Role
from bankservice.core.masking import mask_email
from bankservice.events.models import Event
from consultation.models import Consultation, ConsultationStatus, SearchLog
from consultation.services import consultation_close, consultation_start
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST = reverse("consultation:list")


def detail(consultation):
    return reverse("consultation:detail", args=[consultation.pk])


def contact_consultation(advisor, branch, n=0, channel="phone"):
    return consultation_start(
        actor=advisor,
        channel=channel,
        branch=branch,
        contact_name=f"Contact {n}",
        contact_phone=f"+86139{n:08d}",
        contact_email=f"contact{n}@example.cn",
    )


def test_list_masks_contacts_unless_the_role_may_see_personal_data(
    client, advisor, branch_a, make_staff
):
    contact_consultation(advisor, branch_a, 12345678)
    greeter = make_staff(Role.GREETER, branch=branch_a)  # consultations, but no reveal_pii

    client.force_login(greeter)
    page = client.get(LIST).content.decode()
    assert "Contact 12345678" in page
    assert "+86139****5678" in page and "+8613912345678" not in page
    assert mask_email("contact12345678@example.cn") in page
    assert "contact12345678@example.cn" not in page

    client.force_login(advisor)  # advisors may see personal data at their branch
    assert "+8613912345678" in client.get(LIST).content.decode()


def test_list_filters_and_shows_my_open_ones(client, advisor, other_advisor, branch_a):
    mine = contact_consultation(advisor, branch_a, 1, channel="phone")
    closed = contact_consultation(advisor, branch_a, 2, channel="chat")
    consultation_close(actor=advisor, consultation=closed, outcome="answered")
    theirs = contact_consultation(other_advisor, branch_a, 3, channel="video")
    client.force_login(advisor)

    page = client.get(LIST).content.decode()
    mine_table = page.split('data-consultations="mine"')[1].split("</table>")[0]
    assert f'data-consultation="{mine.pk}"' in mine_table
    assert f'data-consultation="{theirs.pk}"' not in mine_table

    def branch_rows(**params):
        html = client.get(LIST, params).content.decode()
        table = html.split('data-consultations="branch"')[1].split("</table>")[0]
        return {int(pk) for pk in re.findall(r'data-consultation="(\d+)"', table)}

    assert branch_rows() == {mine.pk, closed.pk, theirs.pk}
    assert branch_rows(channel="video") == {theirs.pk}
    assert branch_rows(outcome="answered") == {closed.pk}
    assert branch_rows(advisor=other_advisor.pk) == {theirs.pk}
    day = timezone.localdate(mine.started_at).isoformat()  # dates in the site's time zone
    assert branch_rows(started_from=day, started_to=day) == {mine.pk, closed.pk, theirs.pk}
    assert client.get(LIST, {"started_from": "not a date"}).status_code == 200


def test_list_costs_the_same_queries_for_more_rows(
    client, advisor, branch_a, customer, django_assert_max_num_queries
):
    client.force_login(advisor)
    for n in range(3):
        contact_consultation(advisor, branch_a, n)
    consultation_start(actor=advisor, channel="phone", branch=branch_a, customer=customer)
    client.get(LIST)  # warm the session
    # Besides one audit insert per person whose phone the advisor sees in full (four).
    with django_assert_max_num_queries(8 + 4) as few:
        client.get(LIST)
    for n in range(3, 20):
        contact_consultation(advisor, branch_a, n)
    shown = Event.objects.filter(type="customer.pii_revealed").count()
    with django_assert_max_num_queries(len(few.captured_queries) + 17) as more:
        assert client.get(LIST).status_code == 200
    audited = Event.objects.filter(type="customer.pii_revealed").count() - shown
    assert len(more.captured_queries) - audited <= len(few.captured_queries) - 4


def test_new_consultation_by_phone_for_a_found_customer(client, advisor, branch_a, customer):
    client.force_login(advisor)
    assert client.get(reverse("consultation:new")).status_code == 200
    response = client.post(
        reverse("consultation:new"),
        {
            "branch": branch_a.pk,
            "channel": "phone",
            "customer_query": customer.core_banking_id,
            "question": "Card annual fee?",
        },
    )
    consultation = Consultation.objects.get()
    assert response.status_code == 302 and response.url == detail(consultation)
    assert consultation.customer == customer
    assert consultation.question == "Card annual fee?"


def test_new_consultation_without_anyone_is_a_form_error(client, advisor, branch_a):
    client.force_login(advisor)
    response = client.post(reverse("consultation:new"), {"branch": branch_a.pk, "channel": "chat"})
    assert response.status_code == 200
    assert "give a contact name or number" in response.content.decode()
    assert not Consultation.objects.exists()


def test_the_console_starts_a_consultation_for_the_served_ticket(client, teller, serving_ticket):
    client.force_login(teller)
    console = client.get(reverse("reception:console")).content.decode()
    start_url = reverse("consultation:start-from-ticket", args=[serving_ticket.pk])
    assert start_url in console

    response = client.post(start_url)
    consultation = Consultation.objects.get()
    assert response.url == detail(consultation)
    assert consultation.ticket_id == serving_ticket.pk
    # Pressed again: back to the same consultation, not a second one.
    assert client.post(start_url).url == detail(consultation)
    assert Consultation.objects.count() == 1

    page = client.get(detail(consultation)).content.decode()
    journey = page.split("data-journey")[1].split("</section>")[0]
    assert serving_ticket.number in journey
    assert "5 minutes" in journey  # arrival to call


def test_a_ticket_not_being_served_comes_back_to_the_console(client, teller, issue_tickets):
    (waiting,) = issue_tickets(1)
    client.force_login(teller)
    response = client.post(
        reverse("consultation:start-from-ticket", args=[waiting.pk]), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("reception:console")
    assert "ticket you are serving" in response.content.decode()


def test_screen_searches_attaches_and_closes(client, advisor, phone_consultation, article):
    client.force_login(advisor)
    page = client.get(detail(phone_consultation), {"q": "annual fee"}).content.decode()
    assert f'data-hit="{article.pk}"' in page
    log = SearchLog.objects.first()  # the knowledge base's owners see what staff looked for
    assert (log.query, log.source, log.result_count) == ("annual fee", "consult", 1)

    partial = client.get(detail(phone_consultation), {"q": "fee"}, HTTP_HX_REQUEST="true")
    assert partial.content.decode().startswith('<div id="cs-search"')  # htmx: results alone
    assert f'data-hit="{article.pk}"' in partial.content.decode()

    client.post(
        reverse("consultation:article", args=[phone_consultation.pk]), {"article": article.pk}
    )
    assert list(phone_consultation.articles.all()) == [article]

    response = client.post(
        reverse("consultation:close", args=[phone_consultation.pk]),
        {"outcome": "answered", "outcome_note": "Told about the six purchases."},
    )
    assert response.status_code == 302
    phone_consultation.refresh_from_db()
    assert phone_consultation.status == ConsultationStatus.CLOSED
    page = client.get(detail(phone_consultation)).content.decode()
    history = page.split("data-history")[1]
    for label in ("Consultation started", "Consultation updated", "Consultation closed"):
        assert label in history
    assert "data-close" not in page  # closed: no more closing


def test_screen_edit_saves_topics_and_notes(client, advisor, phone_consultation, topic):
    client.force_login(advisor)
    response = client.post(
        reverse("consultation:edit", args=[phone_consultation.pk]),
        {"question": "Fee?", "notes": "Explained.", "topics": [topic.pk]},
    )
    assert response.status_code == 302
    phone_consultation.refresh_from_db()
    assert (phone_consultation.question, phone_consultation.notes) == ("Fee?", "Explained.")
    assert list(phone_consultation.topics.all()) == [topic]


def test_closing_without_an_outcome_is_a_form_error(client, advisor, phone_consultation):
    client.force_login(advisor)
    response = client.post(reverse("consultation:close", args=[phone_consultation.pk]), {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    phone_consultation.refresh_from_db()
    assert phone_consultation.status == ConsultationStatus.OPEN


def test_referral_from_the_screen(client, advisor, other_advisor, phone_consultation):
    client.force_login(advisor)
    url = reverse("consultation:close", args=[phone_consultation.pk])
    assert client.post(url, {"outcome": "advisor"}).status_code == 400  # whom to?
    client.post(url, {"outcome": "advisor", "referred_to": other_advisor.pk})
    assert Consultation.objects.get(advisor=other_advisor).status == ConsultationStatus.OPEN


def test_another_branch_gets_404_and_a_reader_403(
    client, phone_consultation, make_staff, branch_a, branch_b
):
    client.force_login(make_staff(Role.ADVISOR, branch=branch_b))
    assert client.get(detail(phone_consultation)).status_code == 404
    close = reverse("consultation:close", args=[phone_consultation.pk])
    assert client.post(close, {"outcome": "answered"}).status_code == 404

    client.force_login(make_staff(Role.PROCESSOR, branch=branch_a))  # reads, does not change
    assert client.get(detail(phone_consultation)).status_code == 200
    assert client.post(close, {"outcome": "answered"}).status_code == 403
    assert client.get(reverse("consultation:new")).status_code == 403


def test_a_colleague_sees_but_may_not_close_it(client, teller, phone_consultation):
    client.force_login(teller)
    page = client.get(detail(phone_consultation)).content.decode()
    assert "data-close" not in page
    close = reverse("consultation:close", args=[phone_consultation.pk])
    assert client.post(close, {"outcome": "answered"}).status_code == 403


def test_screen_costs_the_same_queries_with_more_articles_and_history(
    client, advisor, phone_consultation, article, topic, django_assert_max_num_queries
):
    from consultation.services import consultation_update

    from .conftest import publish_article

    client.force_login(advisor)
    url = detail(phone_consultation)
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    more = [
        publish_article(topic=topic, owner=advisor, title_en=f"Article {n}", body_en="text")
        for n in range(5)
    ]
    for n in range(5):
        consultation_update(
            actor=advisor,
            consultation=phone_consultation,
            data={"notes": f"note {n}", "articles": [article, *more[: n + 1]]},
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_customer_timeline_labels_consultation_events(client, advisor, phone_consultation):
    consultation_close(actor=advisor, consultation=phone_consultation, outcome="answered")
    client.force_login(advisor)
    page = client.get(reverse("customers:detail", args=[phone_consultation.customer_id]))
    text = page.content.decode()
    assert "Consultation started" in text and "Consultation closed" in text
    assert ">consultation.closed<" not in text


def test_a_customer_in_the_list_shows_masked_to_a_greeter(client, branch_a, advisor, make_staff):
    customer = CustomerFactory(phone="+8613800138000", home_branch=branch_a)
    consultation_start(actor=advisor, channel="video", branch=branch_a, customer=customer)
    client.force_login(make_staff(Role.GREETER, branch=branch_a))
    page = client.get(LIST).content.decode()
    assert "+86138****8000" in page and "+8613800138000" not in page


def test_admin_shows_consultations_read_only_and_masked(client, advisor, branch_a):
    from tests.factories import UserFactory

    consultation = contact_consultation(advisor, branch_a, 12345678)
    admin_user = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin_user)
    assert client.get("/admin/consultation/consultation/").status_code == 200
    page = client.get(f"/admin/consultation/consultation/{consultation.pk}/change/")
    text = page.content.decode()
    assert "+86139****5678" in text and "+8613912345678" not in text
