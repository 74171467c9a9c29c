"""The greeter asks the assistant what a customer needs, in Chinese, and issues the ticket it
suggests with one click, in English and in Chinese."""

import tempfile
from pathlib import Path

import pytest
from django.urls import reverse

from bankservice.branches.models import Role
from consultation.assistant import services as assistant
from consultation.assistant.hooks import EXAMPLES_CSV
from reception.models import Ticket

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SHOTS = Path(tempfile.gettempdir())
ACCOUNTS = {"en": "B · Accounts and cards", "zh-hans": "B · 开户与银行卡"}


@pytest.fixture
def trained_assistant(db):
    assistant._loaded.state = (None, None)  # a flushed database gives model ids out again
    assistant.training_examples_import(
        actor=None,
        examples=assistant.examples_from_csv(EXAMPLES_CSV.read_bytes()),
        source="e2e",
    )
    return assistant.assistant_train(actor=None)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_greeter_asks_the_assistant_and_issues_the_ticket(
    page, sign_in, reception, make_staff, trained_assistant, language
):
    branch = reception["branch"]
    greeter = make_staff(Role.GREETER, branch=branch, username="greeter-h24")
    sign_in(greeter)
    page.goto(f"{reverse('reception:floor')}?branch={branch.pk}")
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)

    panel = page.locator("[data-assistant]")
    panel.locator("input[name=q]").fill("我的银行卡丢了，要挂失")
    panel.locator("button[type=submit]").click()  # htmx: the answer appears in the panel
    expect(panel.locator("[data-field=assistant-service]")).to_have_text(ACCOUNTS[language])
    expect(panel.locator("[data-field=assistant-confidence]")).to_contain_text("%")
    assert page.url.endswith(f"?branch={branch.pk}")  # still the floor view: no page load
    page.screenshot(path=SHOTS / f"e2e-assistant-{language}.png", full_page=True)

    with page.expect_navigation():
        panel.locator("[data-field=assistant-issue]").click()
    expect(page.locator("[data-field=issued-number]")).to_have_text("B001")
    ticket = Ticket.objects.get()
    assert ticket.service_type.code == "accounts"
