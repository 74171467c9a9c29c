"""Staff pages and the API: permissions (403/404), the flows, htmx partials, query budgets."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from consultation.models import Article, SearchLog, VersionStatus

PDF_BYTES = b"%PDF-1.7\n%%EOF"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _login(client, user):
    client.force_login(user)
    return client


def test_home_search_logs_and_links_the_open(client, publish, teller):
    article = publish(
        title_zh="借记卡挂失", body_zh="银行卡丢失后请立即挂失。", title_en="Lost card"
    )
    _login(client, teller)
    response = client.get(reverse("consultation:kb-home"), {"q": "卡丢失了怎么办"})
    assert response.status_code == 200
    log = SearchLog.objects.get()
    assert (log.user, log.result_count, log.branch_id) == (
        teller,
        1,
        teller.memberships.get().branch_id,
    )
    link = f"{reverse('consultation:kb-article', args=[article.pk])}?from_search={log.pk}"
    assert link in response.content.decode()
    assert client.get(link).status_code == 200
    log.refresh_from_db()
    article.refresh_from_db()
    assert log.opened_article == article and article.view_count == 1


def test_htmx_search_returns_only_results(client, publish, teller):
    publish(title_en="Lost card", body_en="Call <b>us</b>.")
    _login(client, teller)
    response = client.get(reverse("consultation:kb-home"), {"q": "call"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "<mark>" in body


def test_roles_without_kb_get_403(client, make_staff, branch_a, publish):
    article = publish()
    # A role with no knowledge-base permission at all (none in 0002 lacks view; use a bare user).
    from tests.factories import UserFactory

    nobody = UserFactory(username="nobody")
    _login(client, nobody)
    assert client.get(reverse("consultation:kb-home")).status_code == 403
    assert client.get(reverse("consultation:kb-article", args=[article.pk])).status_code == 403


def test_teller_cannot_write_or_review(client, teller, draft, author):
    version = draft()
    _login(client, teller)
    assert client.get(reverse("consultation:kb-article-new")).status_code == 403
    assert client.get(reverse("consultation:kb-review")).status_code == 403
    assert client.get(reverse("consultation:kb-unanswered")).status_code == 403
    assert (
        client.get(reverse("consultation:kb-article", args=[version.article_id])).status_code == 404
    )
    response = client.post(reverse("consultation:kb-version-approve", args=[version.pk]))
    assert response.status_code == 403


def test_write_submit_approve_through_pages(client, author, approver, cards):
    _login(client, author)
    response = client.post(
        reverse("consultation:kb-article-new"),
        {
            "kind": "qa",
            "category": cards.pk,
            "owner": author.pk,
            "review_due": "2030-01-01",
            "tags": "卡, card",
            "title_zh": "信用卡年费",
            "body_zh": "首年免年费。",
        },
    )
    article = Article.objects.get()
    version = article.versions.get()
    assert response.url == reverse("consultation:kb-version", args=[version.pk])
    assert article.tags == ["卡", "card"]
    client.post(reverse("consultation:kb-version-submit", args=[version.pk]))
    # The author's own approval is refused with a message, not an error page.
    _login(client, author)
    assert (
        client.post(reverse("consultation:kb-version-approve", args=[version.pk])).status_code
        == 403
    )
    _login(client, approver)
    assert version.pk in [
        v.pk for v in client.get(reverse("consultation:kb-review")).context["versions"]
    ]
    client.post(reverse("consultation:kb-version-return", args=[version.pk]), {"note": ""})
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW  # a return needs a note
    client.post(reverse("consultation:kb-version-approve", args=[version.pk]), {"note": "OK"})
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    history = client.get(reverse("consultation:kb-history", args=[article.pk]))
    assert "OK" in history.content.decode()


def test_new_article_form_errors_on_screen(client, author, cards):
    _login(client, author)
    response = client.post(
        reverse("consultation:kb-article-new"),
        {"kind": "qa", "category": cards.pk, "owner": author.pk, "review_due": "2030-01-01"},
    )
    assert response.status_code == 200
    assert "Give a title" in response.content.decode()


def test_feedback_htmx(client, publish, teller):
    article = publish()
    _login(client, teller)
    url = reverse("consultation:kb-feedback", args=[article.pk])
    response = client.post(url, {"helpful": "yes"}, HTTP_HX_REQUEST="true")
    assert 'data-field="helpful-count">1<' in response.content.decode()
    response = client.post(url, {"helpful": "maybe"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400


def test_attachment_upload_and_download(client, publish, author, teller):
    article = publish()
    _login(client, author)
    client.post(
        reverse("consultation:kb-attachment-add", args=[article.pk]),
        {"file": SimpleUploadedFile("rates.png", PDF_BYTES, content_type="image/png")},
    )
    attachment = article.attachments.get()
    _login(client, teller)
    url = reverse("consultation:kb-attachment", args=[attachment.pk])
    response = client.get(url)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert client.get(url + "?inline=1")["Content-Disposition"].startswith("inline")
    # Uploading is for writers.
    response = client.post(
        reverse("consultation:kb-attachment-add", args=[article.pk]),
        {"file": SimpleUploadedFile("a.pdf", PDF_BYTES)},
    )
    assert response.status_code == 403


def test_attachment_of_unpublished_article_is_404_for_readers(client, draft, author, teller):
    from consultation.kb.services import attachment_add

    version = draft()
    attachment = attachment_add(
        actor=author, article=version.article, upload=SimpleUploadedFile("a.pdf", PDF_BYTES)
    )
    _login(client, teller)
    assert (
        client.get(reverse("consultation:kb-attachment", args=[attachment.pk])).status_code == 404
    )


def test_page_query_budgets(client, publish, teller, debit_card, django_assert_max_num_queries):
    articles = [
        publish(title_en=f"Card fees {n}", body_en="Annual fee.", products=[debit_card])
        for n in range(8)
    ]
    _login(client, teller)
    client.get(reverse("consultation:kb-home"))  # warm the session and the vocabulary
    with django_assert_max_num_queries(12):
        client.get(reverse("consultation:kb-home"), {"q": "fees"})
    with django_assert_max_num_queries(10):
        client.get(reverse("consultation:kb-home"))
    with django_assert_max_num_queries(12):
        client.get(reverse("consultation:kb-article", args=[articles[0].pk]))


# --- API -------------------------------------------------------------------------------------


def test_api_search_and_retrieve(api, publish, teller, debit_card):
    article = publish(
        title_zh="外汇额度",
        body_zh="外汇额度每人每年5万美元。",
        title_en="FX quota",
        body_en="USD 50,000 a year.",
        products=[debit_card],
    )
    publish(title_en="Other", body_en="Nothing.")
    api.force_authenticate(teller)
    response = api.get("/api/v1/kb/articles", {"q": "我的外汇额度", "product": "debit-card"})
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == article.pk and 0 < row["score"] <= 1 and "<mark>" in row["snippet"]
    detail = api.get(f"/api/v1/kb/articles/{article.pk}").json()
    assert detail["body_zh"] == "外汇额度每人每年5万美元。" and detail["products"] == ["debit-card"]
    listing = api.get("/api/v1/kb/articles").json()
    assert {r["id"] for r in listing["results"]} == {article.pk, article.pk + 1}


def test_api_hides_unpublished_and_checks_scopes(api, draft, publish, make_api_client, teller):
    unpublished = draft().article
    published = publish()
    api.force_authenticate(teller)
    assert api.get(f"/api/v1/kb/articles/{unpublished.pk}").status_code == 404
    reader = make_api_client(["consultation:read"], all_branches=True)
    assert reader.get(f"/api/v1/kb/articles/{published.pk}").status_code == 200
    response = reader.post(f"/api/v1/kb/articles/{published.pk}/feedback", {"helpful": True})
    assert response.status_code == 403
    assert (
        make_api_client(["reception:read"], all_branches=True)
        .get("/api/v1/kb/articles")
        .status_code
        == 403
    )


def test_api_feedback(api, publish, teller):
    article = publish()
    api.force_authenticate(teller)
    url = f"/api/v1/kb/articles/{article.pk}/feedback"
    assert api.post(url, {"helpful": True}).json() == {
        "helpful": True,
        "helpful_count": 1,
        "not_helpful_count": 0,
    }
    assert api.post(url, {"helpful": False}).json()["not_helpful_count"] == 1
    assert api.post(url, {}).status_code == 400


def test_api_list_query_budget(api, publish, teller, debit_card, django_assert_max_num_queries):
    for n in range(10):
        publish(title_en=f"Card rule {n}", body_en="Rules for cards.", products=[debit_card])
    api.force_authenticate(teller)
    api.get("/api/v1/kb/articles", {"q": "card"})
    with django_assert_max_num_queries(10):
        assert len(api.get("/api/v1/kb/articles", {"q": "card rules"}).json()["results"]) == 10
    with django_assert_max_num_queries(6):
        assert len(api.get("/api/v1/kb/articles").json()["results"]) == 10


def test_review_history_and_unanswered_query_budgets(
    client, draft, publish, author, approver, teller, django_assert_max_num_queries
):
    from consultation.kb.services import search_log_record, version_submit

    for _ in range(5):
        version_submit(actor=author, version=draft())
    article = publish()
    for n in range(5):
        search_log_record(query=f"question {n}", user=teller, hits=[])
    _login(client, approver)
    client.get(reverse("consultation:kb-home"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("consultation:kb-review"))
    assert len(response.context["versions"]) == 5
    with django_assert_max_num_queries(9):
        client.get(reverse("consultation:kb-history", args=[article.pk]))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("consultation:kb-unanswered"), {"days": 7})
    assert len(response.context["questions"]) == 5


def test_admin_pages_load(admin_client, publish, debit_card):
    article = publish(products=[debit_card])
    for url in (
        reverse("admin:consultation_category_changelist"),
        reverse("admin:consultation_article_changelist"),
        reverse("admin:consultation_article_change", args=[article.pk]),
        reverse("admin:customers_product_changelist"),
        reverse("admin:customers_product_change", args=[debit_card.pk]),
    ):
        assert admin_client.get(url).status_code == 200, url
