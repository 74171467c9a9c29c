"""What the knowledge base adds at start-up (event labels, the review-due e-mail, its tasks) and
to the demo data."""

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "consultation.article_created": _("Knowledge article created"),
    "consultation.article_updated": _("Knowledge article details changed"),
    "consultation.article_draft_started": _("New version of a knowledge article started"),
    "consultation.article_edited": _("Knowledge article draft edited"),
    "consultation.article_submitted": _("Knowledge article submitted for review"),
    "consultation.article_published": _("Knowledge article approved and published"),
    "consultation.article_returned": _("Knowledge article returned for changes"),
    "consultation.article_archived": _("Knowledge article withdrawn"),
    "consultation.article_attachment_added": _("Attachment added to a knowledge article"),
    "consultation.article_attachment_removed": _("Attachment removed from a knowledge article"),
    "consultation.article_feedback": _("Knowledge article rated"),
    "consultation.article_review_due": _("Knowledge article due for review"),
}


def ready() -> None:
    from bankservice.events.catalogue import register_event_labels
    from bankservice.notify.registry import MessageType, register

    from . import tasks  # noqa: F401  (registers the Celery tasks: autodiscovery stops at the app)
    from .services import REVIEW_DUE_MESSAGE

    register_event_labels(EVENT_LABELS)
    register(
        MessageType(
            REVIEW_DUE_MESSAGE,
            _("Knowledge article due for review (to its owner)"),
            required=("title", "review_due", "article_id"),
            channels=("email",),
            sample={"title": "挂失借记卡", "review_due": "2026-03-01", "article_id": 12},
        )
    )


def seed_demo(*, branches) -> dict[str, int]:
    from .demo import seed_knowledge_base

    return seed_knowledge_base()


def demo_links(*, base_url: str) -> list[str]:
    from django.urls import reverse

    return [f"Knowledge base: {base_url}{reverse('consultation:kb-home')}"]
