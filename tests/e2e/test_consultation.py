"""A teller serving a ticket starts a consultation from the counter console, finds and attaches a
knowledge article, and closes the consultation with an outcome; in English and in Chinese.

Controls are found by their data attributes, so the test holds once the Chinese catalogue
translates the labels; translated labels are checked where the catalogue already has them.
"""

import re
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone, translation

from consultation.models import Category, Consultation, ConsultationStatus
from reception.models import VisitSource
from reception.services import counter_sign_in, ticket_call_next, ticket_issue, ticket_start
from tests.consultation.desk.conftest import publish_article
from tests.factories import CustomerFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

CJK = re.compile(r"[\u4e00-\u9fff]")
# Kept for a person to look at (the screen open, closed, and the list).
SCREENSHOTS = Path(tempfile.gettempdir())


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


@pytest.mark.parametrize(("language", "query"), [("en", "annual fee"), ("zh-hans", "年费")])
def test_teller_serves_consults_attaches_and_closes(page, sign_in, reception, language, query):
    branch, teller = reception["branch"], reception["teller"]
    customer = CustomerFactory(full_name="王小明", home_branch=branch)
    topic = Category.objects.create(code="cards", name_zh="银行卡", name_en="Cards")
    article = publish_article(
        topic=topic,
        owner=teller,
        title_en="Annual fee of the credit card",
        body_en="The annual fee is waived after six purchases a year.",
        title_zh="信用卡年费",
        body_zh="每年刷卡六次即可免年费。",
    )
    counter_sign_in(actor=teller, counter=reception["counter"])
    ticket = ticket_issue(
        actor=None,
        service_type=reception["cash"],
        source=VisitSource.KIOSK,
        customer=customer,
        now=timezone.now(),
    )
    ticket_call_next(actor=teller, counter=reception["counter"])
    ticket_start(actor=teller, ticket=ticket)
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    sign_in(teller)
    page.goto("/reception/counter/")
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("[data-field=current-number]")).to_have_text(ticket.number)

    with page.expect_navigation():
        page.locator("[data-start-consultation]").click()
    consultation = Consultation.objects.get()
    expect(page).to_have_url(re.compile(rf"/consultation/{consultation.pk}/$"))
    expect(page.locator("[data-field=ticket]")).to_contain_text(ticket.number)
    expect(page.locator("[data-field=customer]")).to_have_text("王小明")

    page.fill("#cs-q", query)
    page.locator("#cs-q").press("Enter")  # htmx swaps the results in
    expect(page).to_have_url(re.compile(r"\?q="))
    hit = page.locator(f"[data-hit='{article.pk}']")
    expect(hit).to_contain_text("信用卡年费" if language != "en" else "Annual fee")
    with page.expect_navigation():
        hit.locator("[data-attach]").click()
    expect(page.locator(f"[data-attached] [data-article='{article.pk}']")).to_have_count(1)

    page.screenshot(path=SCREENSHOTS / f"consultation-open-{language}.png", full_page=True)
    page.select_option("#id_outcome", "answered")
    page.fill("#id_outcome_note", "Six purchases a year")
    with page.expect_navigation():
        page.locator("form[data-close] button[type=submit]").click()
    expect(page.locator("form[data-close]")).to_have_count(0)
    consultation.refresh_from_db()
    assert consultation.status == ConsultationStatus.CLOSED
    assert consultation.outcome == "answered"
    assert list(consultation.articles.all()) == [article]
    answered = "Answered" if language == "en" else zh("Answered")
    if language == "en" or CJK.search(answered):
        expect(page.locator("[data-field=outcome]")).to_contain_text(answered)
    expect(page.locator("[data-history] li")).to_have_count(3)  # started, updated, closed
    page.screenshot(path=SCREENSHOTS / f"consultation-closed-{language}.png", full_page=True)
    page.goto("/consultation/")
    page.screenshot(path=SCREENSHOTS / f"consultation-list-{language}.png", full_page=True)
    assert problems == []
