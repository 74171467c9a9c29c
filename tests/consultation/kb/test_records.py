"""Attachments (type from the bytes, size limit), feedback counts, use counts, the review-date
sweep and the unanswered-questions list."""

import datetime as dt
import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from bankservice.core.errors import BadInput
from bankservice.core.uploads import DOCX, PDF, PNG, sniff_content_type
from bankservice.notify.models import Notification
from consultation.kb.search import search_articles
from consultation.kb.selectors import unanswered_questions
from consultation.kb.services import (
    articles_flag_review_due,
    articles_record_use,
    attachment_add,
    feedback_give,
    search_log_opened,
    search_log_record,
)
from consultation.models import Article, ArticleFeedback

PDF_BYTES = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_sniffing_reads_the_bytes_not_the_name():
    assert sniff_content_type(PDF_BYTES, "rates.png") == PDF
    assert sniff_content_type(PNG_BYTES, "x.pdf") == PNG
    assert sniff_content_type(_docx(), "form.docx") == DOCX
    assert sniff_content_type(b"<html><script>alert(1)</script>", "a.txt") is None
    assert sniff_content_type(b"PK\x03\x04not a zip", "a.docx") is None
    assert sniff_content_type("余额,金额\n1,2\n".encode(), "a.csv") == "text/csv"


def test_pdf_renamed_png_is_stored_as_pdf(publish, author):
    article = publish()
    upload = SimpleUploadedFile("rates.png", PDF_BYTES, content_type="image/png")
    attachment = attachment_add(actor=author, article=article, upload=upload)
    assert attachment.content_type == PDF
    assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert attachment.size == len(PDF_BYTES)
    assert "rates" not in attachment.file.name  # random storage name
    assert attachment.file.read() == PDF_BYTES


def test_refuses_unknown_types_and_large_files(publish, author, settings):
    article = publish()
    with pytest.raises(BadInput) as error:
        attachment_add(
            actor=author, article=article, upload=SimpleUploadedFile("a.pdf", b"MZ\x90\x00exe")
        )
    assert error.value.field == "file"
    settings.KB_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(BadInput, match="larger"):
        attachment_add(actor=author, article=article, upload=SimpleUploadedFile("a.pdf", PDF_BYTES))
    settings.KB_ATTACHMENT_TYPES = ["image/png"]
    settings.KB_ATTACHMENT_MAX_BYTES = 1000
    with pytest.raises(BadInput, match="not accepted"):
        attachment_add(actor=author, article=article, upload=SimpleUploadedFile("a.pdf", PDF_BYTES))
    assert article.attachments.count() == 0


def test_feedback_changes_update_counts(publish, teller, author):
    article = publish()
    feedback_give(actor=teller, article=article, helpful=True)
    feedback_give(actor=teller, article=article, helpful=True)  # repeat: no change
    feedback_give(actor=author, article=article, helpful=True)
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (2, 0)
    feedback_give(actor=teller, article=article, helpful=False, comment="Out of date")
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 1)
    assert ArticleFeedback.objects.get(user=teller).comment == "Out of date"


def test_use_counts(publish):
    first, second = publish(), publish()
    articles_record_use(article_ids=[first.pk, second.pk, first.pk])
    articles_record_use(article_ids=[first.pk])
    assert dict(Article.objects.values_list("pk", "use_count")) == {first.pk: 2, second.pk: 1}


def test_review_sweep_flags_once_per_review_date(publish, author, branch_a):
    author.email = "author@bank.example"
    author.save()
    article = publish(review_due=dt.date(2026, 3, 1))
    assert articles_flag_review_due(today=dt.date(2026, 3, 1)) == 0  # due, not past
    assert articles_flag_review_due(today=dt.date(2026, 3, 2)) == 1
    assert articles_flag_review_due(today=dt.date(2026, 3, 3)) == 0
    article.refresh_from_db()
    assert article.expiry_notified_on == dt.date(2026, 3, 2)
    notification = Notification.objects.get()
    assert notification.template == "consultation.kb_review_due"
    assert notification.branch == branch_a
    # A new review date that passes again is told again.
    Article.objects.filter(pk=article.pk).update(review_due=dt.date(2026, 6, 1))
    assert articles_flag_review_due(today=dt.date(2026, 5, 1)) == 0
    assert articles_flag_review_due(today=dt.date(2026, 6, 2)) == 1
    assert Notification.objects.count() == 2


def test_unanswered_questions(publish, teller):
    article = publish(title_en="Lost card", body_en="Call the hotline.")
    publish(title_en="Opening hours", body_en="Branches open at nine.")
    publish(title_en="Mortgage rates", body_en="Rates follow the LPR.")
    for _ in range(3):
        search_log_record(query="Gold  bars", user=teller, hits=search_articles("gold bars"))
    answered = search_log_record(query="lost card", user=teller, hits=search_articles("lost card"))
    search_log_opened(log_id=answered.pk, user=teller, article_id=article.pk)
    never_opened = search_log_record(query="hotline", user=teller, hits=search_articles("hotline"))
    rows = unanswered_questions(since=timezone.now() - dt.timedelta(days=1))
    assert [(r.normalized, r.searches, r.no_results) for r in rows] == [
        ("gold bars", 3, 3),
        ("hotline", 1, 0),
    ]
    assert never_opened.top_score > 0
    # Questions put to the assistant count when they found nothing or little, not for being
    # left unopened (greeters route customers, they do not read articles).
    search_log_record(
        query="gold bars", user=teller, hits=search_articles("gold bars"), source="assistant"
    )
    search_log_record(
        query="lost card", user=teller, hits=search_articles("lost card"), source="assistant"
    )
    rows = unanswered_questions(since=timezone.now() - dt.timedelta(days=1))
    assert [(r.normalized, r.searches, r.staff_searches) for r in rows] == [
        ("gold bars", 4, 3),
        ("hotline", 1, 1),
    ]
