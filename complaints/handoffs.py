"""The consultation hand-off "complaint raised": a complaint from the consultation (docs/handoffs.md).

Registered in ComplaintsConfig.ready(). The complaint is received when the consultation closed,
at its branch, from its customer (or contact), about its one product if it named exactly one. Its
category is the general "service attitude and quality" until the officer reclassifies it; the
description is what the advisor wrote.
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Category, Channel
from .services import complaint_create

# The consultation's channel → the complaint's (chat and video are online channels).
CHANNELS = {
    "counter": Channel.COUNTER,
    "phone": Channel.PHONE,
    "chat": Channel.ONLINE_FORM,
    "video": Channel.ONLINE_FORM,
}
DEFAULT_CATEGORY = "service"


def complaint_from_consultation(consultation, *, actor) -> str:
    products = list(consultation.products.all()[:2])
    description = "\n\n".join(
        text for text in (consultation.outcome_note.strip(), consultation.question.strip()) if text
    ) or _("Raised during consultation %(id)s; see its notes.") % {"id": consultation.pk}
    complaint = complaint_create(
        actor=actor,
        branch=consultation.branch,
        channel=CHANNELS.get(consultation.channel, Channel.COUNTER),
        category=Category.objects.get(code=DEFAULT_CATEGORY, parent=None),
        description=description,
        received_at=consultation.ended_at or timezone.now(),
        customer=consultation.customer,
        contact_name=consultation.contact_name if consultation.customer is None else "",
        contact_phone=consultation.contact_phone if consultation.customer is None else "",
        contact_email=consultation.contact_email if consultation.customer is None else "",
        product=products[0] if len(products) == 1 else None,
    )
    return f"complaints.complaint:{complaint.pk}"
