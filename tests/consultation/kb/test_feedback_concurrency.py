"""Feedback under concurrency on PostgreSQL: many people answering at once, and one person's two
clicks racing, leave counts equal to the stored answers."""

import pytest
from django.contrib.auth import get_user_model

from bankservice.branches.models import Role
from consultation.kb.services import feedback_give
from consultation.models import Article, ArticleFeedback
from tests.concurrency import run_together
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _give(user_id: int, article_id: int, helpful: bool):
    def call():
        # Each thread reads its own objects on its own connection.
        user = get_user_model().objects.get(pk=user_id)
        return feedback_give(
            actor=user, article=Article.objects.get(pk=article_id), helpful=helpful
        )

    return call


def _counts_match(article: Article) -> None:
    article.refresh_from_db()
    answers = ArticleFeedback.objects.filter(article=article)
    assert article.helpful_count == answers.filter(helpful=True).count()
    assert article.not_helpful_count == answers.filter(helpful=False).count()


def test_many_people_at_once(publish, make_staff, branch_a):
    article = publish()
    users = [make_staff(Role.TELLER, branch=branch_a, username=f"t{n}") for n in range(8)]
    results = run_together(
        *(_give(user.pk, article.pk, helpful=n % 2 == 0) for n, user in enumerate(users))
    )
    assert not [r for r in results if isinstance(r, Exception)]
    _counts_match(article)
    assert (article.helpful_count, article.not_helpful_count) == (4, 4)


@pytest.mark.parametrize("answers", [(True, True), (True, False), (False, True, False, True)])
def test_one_persons_clicks_racing(publish, teller, answers):
    article = publish()
    results = run_together(*(_give(teller.pk, article.pk, helpful=h) for h in answers))
    assert not [r for r in results if isinstance(r, Exception)]
    assert ArticleFeedback.objects.filter(article=article).count() == 1
    _counts_match(article)
