"""Approval rules: four eyes, only approvers, returned → resubmitted, publishing supersedes,
readers see only the published text, every step an event."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from bankservice.branches.models import Role
from bankservice.core.errors import BadInput, Conflict
from bankservice.events.models import Event
from consultation.kb.search import search_articles
from consultation.kb.selectors import access_article
from consultation.kb.services import (
    article_archive,
    version_approve,
    version_edit,
    version_return,
    version_start,
    version_submit,
)
from consultation.models import ArticleVersion, VersionStatus


def test_author_cannot_approve_own_version_even_as_approver(draft, make_staff, branch_a):
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="writer-manager")
    version = draft()
    version.author = manager
    version.save()
    version_submit(actor=manager, version=version)
    with pytest.raises(PermissionDenied):
        version_approve(actor=manager, version=version)
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW


def test_database_refuses_reviewer_who_is_author(draft, author):
    version = draft()
    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleVersion.objects.filter(pk=version.pk).update(reviewer=author)


def test_only_approvers_approve(draft, author, make_staff, branch_a, teller):
    other_advisor = make_staff(Role.ADVISOR, branch=branch_a, username="advisor2")
    version = draft()
    version_submit(actor=author, version=version)
    for user in (other_advisor, teller):
        with pytest.raises(PermissionDenied):
            version_approve(actor=user, version=version)


def test_draft_cannot_be_approved_before_submission(draft, approver):
    version = draft()
    with pytest.raises(Conflict):
        version_approve(actor=approver, version=version)


def test_returned_version_is_edited_and_resubmitted(draft, author, approver):
    version = draft(title_en="Lost card", body_en="Call us.")
    version_submit(actor=author, version=version)
    with pytest.raises(BadInput):
        version_return(actor=approver, version=version, note="  ")
    version_return(actor=approver, version=version, note="Give the hotline number.")
    version.refresh_from_db()
    assert (version.status, version.review_note) == ("returned", "Give the hotline number.")
    version_edit(actor=author, version=version, title_en="Lost card", body_en="Call 95588.")
    version_submit(actor=author, version=version)
    version_approve(actor=approver, version=version)
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert version.article.published_id == version.pk
    assert search_articles("95588")[0].article_id == version.article_id


def test_only_author_edits_and_not_in_review(draft, author, approver):
    version = draft()
    with pytest.raises(PermissionDenied):
        version_edit(actor=approver, version=version, title_en="x", body_en="y")
    version_submit(actor=author, version=version)
    with pytest.raises(Conflict):
        version_edit(actor=author, version=version, title_en="x", body_en="y")


def test_text_needs_a_title_and_a_body(draft):
    with pytest.raises(BadInput) as error:
        draft(title_en="", title_zh="", body_en="text")
    assert error.value.field == "title_zh"


def test_publishing_supersedes_and_reindexes(publish, author, approver):
    article = publish(title_en="Card fees", body_en="The annual fee is CNY 10.")
    first = article.published
    second = version_start(actor=author, article=article)
    with pytest.raises(Conflict):
        version_start(actor=author, article=article)  # one open version at a time
    version_edit(actor=author, version=second, title_en="Card fees", body_en="No annual fee.")
    version_submit(actor=author, version=second)
    version_approve(actor=approver, version=second)
    first.refresh_from_db()
    article.refresh_from_db()
    assert first.status == VersionStatus.SUPERSEDED
    assert article.published_id == second.pk
    assert search_articles("CNY") == []
    assert [v.number for v in article.versions.all()] == [2, 1]
    types = list(Event.objects.filter(subject_id=str(article.pk)).values_list("type", flat=True))
    assert types.count("consultation.article_published") == 2
    assert "consultation.article_submitted" in types


def test_readers_see_only_published_articles(draft, publish, teller, author):
    unpublished = draft().article
    published = publish()
    assert access_article(teller, published.pk) == published
    from django.http import Http404

    with pytest.raises(Http404):
        access_article(teller, unpublished.pk)
    assert access_article(author, unpublished.pk) == unpublished


def test_archive_removes_from_search_and_reading(publish, approver, author, teller):
    article = publish(title_en="Safe deposit boxes", body_en="Rent a box at the branch.")
    assert search_articles("deposit box")
    with pytest.raises(PermissionDenied):
        article_archive(actor=author, article=article)
    article_archive(actor=approver, article=article)
    assert search_articles("deposit box") == []
    from django.http import Http404

    with pytest.raises(Http404):
        access_article(teller, article.pk)
    article.published.refresh_from_db()
    assert article.published.status == VersionStatus.WITHDRAWN
