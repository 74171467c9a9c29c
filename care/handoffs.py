"""The consultation hand-off "follow-up needed": a callback for the consultation's customer
(docs/handoffs.md). Registered in CareConfig.ready(); care does not also react to the
`consultation.closed` event, or the customer would be called twice.

The active rule of trigger "consultation follow-up" decides when, for whom and with which
script; one whose match code is one of the consultation's topics wins over a general one. The
callback is due after the rule's delay from the consultation's end, out of quiet hours.
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from bankservice.core.errors import BadInput, Conflict

from .generator import active_rules, due_at_for, rules_for
from .models import OPEN_CALLBACK_STATES, Callback, Trigger
from .services import callback_create


def callback_from_consultation(consultation, *, actor) -> str:
    """Schedule the follow-up; return "care.callback:<pk>" (an open callback the customer
    already has for the same reason counts: they are called once). The actor who closed the
    consultation is an advisor, not a care agent: the callback is scheduled as the system's."""
    if consultation.customer_id is None:
        raise BadInput(_("Find or register the customer first: a callback needs one."))
    topics = {topic.code for topic in consultation.topics.all()}
    rules = active_rules([Trigger.CONSULTATION_FOLLOW_UP])
    rule = next((r for r in rules if r.match_code in topics), None) or next(
        iter(rules_for(rules, None)), None
    )
    if rule is None:
        raise Conflict(_("No active follow-up rule for consultations: ask an administrator."))
    callback = callback_create(
        actor=None,
        customer=consultation.customer,
        branch=consultation.branch,
        reason_code=rule.reason_code,
        due_at=due_at_for(rule, consultation.branch, consultation.ended_at or timezone.now()),
        role=rule.role,
        priority=rule.priority,
        script=rule.script,
        rule=rule,
        source_ref=f"consultation.consultation:{consultation.pk}",
    )
    if callback is None:
        callback = Callback.objects.filter(
            customer_id=consultation.customer_id,
            reason_code=rule.reason_code,
            status__in=OPEN_CALLBACK_STATES,
        ).first()
    if callback is None:
        raise Conflict(
            _(
                "No callback was scheduled: the customer does not accept calls or was contacted "
                "too often lately."
            )
        )
    return f"care.callback:{callback.pk}"
