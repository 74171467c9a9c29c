"""What consultations add at start-up (event labels) and to the demo data."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Demo consultations per branch (held by the branch's demo advisor): channel, contact, the
# contact's phone, question, outcome. Contacts, not demo customers: those may be deleted and
# re-created. So no outcome that needs a customer record (processing, a follow-up callback):
# the complaint is handed on to complaints with the contact's phone, the rest are answered.
DEMO = [
    ("phone", "张女士", "", "信用卡年费怎么减免？", "answered"),
    ("chat", "Tom Baker", "", "How do I raise my daily transfer limit?", "answered"),
    ("phone", "李先生", "", "想了解大额存单利率", "answered"),
    ("video", "Emma Clark", "", "Mortgage early repayment: is there a fee?", "answered"),
    ("chat", "陈先生", "+8613800138000", "手机银行转账失败，扣款未到账", "complaint"),
]


def ready() -> None:
    from bankservice.events.catalogue import register_event_labels

    register_event_labels(
        {
            "consultation.started": _("Consultation started"),
            "consultation.updated": _("Consultation updated"),
            "consultation.closed": _("Consultation closed"),
            "consultation.handed_off": _("Consultation handed on"),
            "consultation.handoff_failed": _("Consultation hand-off failed"),
        }
    )


def seed_demo(*, branches) -> dict[str, int]:
    """A few closed consultations per branch with an advisor (idempotent: a branch that has
    consultations gets none), through the services so the events are the real ones."""
    from .models import Article, Consultation
    from .services import advisors_at, consultation_close, consultation_start, consultation_update

    created = 0
    # Run before the knowledge base's demo data: any published articles are used, none is fine.
    articles = list(Article.objects.filter(published__isnull=False, is_archived=False)[:2])
    for branch in branches:
        advisor = advisors_at(branch.pk).first()
        if advisor is None or Consultation.objects.filter(branch=branch).exists():
            continue
        start = timezone.now() - dt.timedelta(days=1)
        for n, (channel, contact, phone, question, outcome) in enumerate(DEMO):
            at = start + dt.timedelta(minutes=25 * n)
            consultation = consultation_start(
                actor=advisor,
                channel=channel,
                branch=branch,
                contact_name=contact,
                contact_phone=phone,
                question=question,
                now=at,
            )
            if articles and outcome == "answered":
                consultation_update(
                    actor=advisor, consultation=consultation, data={"articles": articles}
                )
            consultation_close(
                actor=advisor,
                consultation=consultation,
                outcome=outcome,
                now=at + dt.timedelta(minutes=12),
            )
            created += 1
    return {"consultations": created}


def demo_links(*, base_url: str) -> list[str]:
    return [f"\nConsultations (staff): {base_url}/consultation/"]
