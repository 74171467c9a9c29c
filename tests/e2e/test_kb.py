"""The knowledge base in the browser: an advisor writes an article, a branch manager approves
it, a teller searches in Chinese with a phrase inside a sentence, finds it and says it helped; in
English and in Simplified Chinese."""

import pytest

from bankservice.branches.models import Role
from consultation.models import Article, Category, VersionStatus

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def _switch_language(page, language: str) -> None:
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_write_approve_search_and_rate(page, sign_in, make_staff, branch_a, language):
    category = Category.objects.create(code="forex", name_zh="外汇业务", name_en="Foreign exchange")
    author = make_staff(Role.ADVISOR, branch=branch_a, username="kb-author")
    approver = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="kb-approver")
    teller = make_staff(Role.TELLER, branch=branch_a, username="kb-teller")

    # The advisor writes the article and submits it.
    sign_in(author)
    _switch_language(page, language)
    page.goto("/consultation/kb/new/")
    page.select_option("#id_category", str(category.pk))
    page.fill("#id_review_due", "2030-01-01")
    page.fill("#id_title_zh", "个人购汇年度额度")
    page.fill("#id_body_zh", "境内个人每人每年的便利化购汇额度为等值5万美元。")
    page.fill("#id_title_en", "Annual foreign currency quota")
    page.fill("#id_body_en", "Each person may buy the equivalent of USD 50,000 a year.")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    article = Article.objects.get()
    version = article.versions.get()
    with page.expect_navigation():
        page.locator(f"form[action$='/versions/{version.pk}/submit/'] button").click()
    expect(page.locator("[data-field=status]")).to_be_visible()
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW

    # The branch manager finds it in the review queue and publishes it.
    page.context.clear_cookies()
    sign_in(approver)
    _switch_language(page, language)
    page.goto("/consultation/kb/")
    expect(page.locator("[data-field=queue-size]")).to_have_text("1")
    page.locator("[data-nav=kb-review]").click()
    page.locator(f"a[href$='/versions/{version.pk}/']").click()
    with page.expect_navigation():
        page.locator(f"form[action$='/versions/{version.pk}/approve/'] button").click()
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED and version.reviewer == approver

    # A teller asks in a whole sentence, finds the article and says it helped.
    page.context.clear_cookies()
    sign_in(teller)
    _switch_language(page, language)
    page.goto("/consultation/kb/")
    page.fill("#id_q", "客户问每年的购汇额度是多少")
    page.locator("form[role=search] button[type=submit]").click()
    result = page.locator(f"[data-article='{article.pk}'] a")
    expect(result).to_be_visible()
    expect(page.locator(f"[data-article='{article.pk}'] mark").first).to_be_visible()
    result.click()
    title = "Annual foreign currency quota" if language == "en" else "个人购汇年度额度"
    expect(page.locator("[data-field=title]")).to_have_text(title)
    page.locator("button[name=helpful][value=yes]").click()
    expect(page.locator("[data-field=helpful-count]")).to_have_text("1")
    expect(page.locator("button[name=helpful][value=yes]")).to_have_attribute(
        "aria-pressed", "true"
    )
    article.refresh_from_db()
    assert (article.helpful_count, article.view_count) == (1, 1)
