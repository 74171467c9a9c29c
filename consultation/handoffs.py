"""Outcome hand-offs: the next step a closed consultation asks another stage for.

"processing" opens a service-request draft (transactions), "follow_up" a care callback (care),
"complaint" a complaint (complaints). Each stage registers its handler from its
AppConfig.ready() with `register_handoff(outcome, handler)`; see docs/handoffs.md.

A handler is called with the locked consultation and the actor (None from the sweep) and returns
a reference to what it created, "<app>.<model>:<pk>", stored in `handoff_ref`. It runs in a
savepoint inside the consultation's row lock, so what it creates and the "done" mark commit
together, exactly once. Without a handler the consultation stays `pending` (nothing is lost) and
`handoffs_retry` hands it on once one is registered; a handler that raises leaves it `failed`
with the error, and the close stands.
"""

import logging
import re
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.translation import gettext as _

from bankservice.core.errors import Conflict
from bankservice.events.services import record

from .models import Consultation, HandoffStatus
from .services import HANDOFF_OUTCOMES, lock_to_handle

logger = logging.getLogger(__name__)

Handler = Callable[..., str]
REF_PATTERN = re.compile(r"^[a-z_]+\.[a-z_]+:[\w-]+$")
RETRY_BATCH = 100

_HANDLERS: dict[str, Handler] = {}


def register_handoff(outcome: str, handler: Handler) -> None:
    """Make `handler(consultation, *, actor) -> "app.model:pk"` create the next step of
    consultations closed with `outcome` (one handler per outcome)."""
    if outcome not in HANDOFF_OUTCOMES:
        raise ImproperlyConfigured(f"No hand-off for the outcome {outcome!r}.")
    if _HANDLERS.get(outcome, handler) is not handler:
        raise ImproperlyConfigured(f"A hand-off for {outcome!r} is registered already.")
    _HANDLERS[outcome] = handler


def handler_for(outcome: str) -> Handler | None:
    return _HANDLERS.get(outcome)


def _hand_on(consultation: Consultation, actor) -> None:
    """Call the handler for a locked, pending consultation and record how it went."""
    handler = _HANDLERS[consultation.outcome]
    try:
        with transaction.atomic():  # a failing handler's own writes go; the close stays
            ref = handler(consultation, actor=actor)
            if not isinstance(ref, str) or len(ref) > 60 or not REF_PATTERN.match(ref):
                raise ValueError(f"the handler returned {ref!r}, not 'app.model:pk'")
    except Exception as exc:  # another stage's code: whatever it raises is recorded
        logger.exception("Hand-off of consultation %s failed", consultation.pk)
        consultation.handoff_status = HandoffStatus.FAILED
        consultation.handoff_error = f"{type(exc).__name__}: {exc}"[:300]
        event = "handoff_failed"
    else:
        consultation.handoff_status = HandoffStatus.DONE
        consultation.handoff_ref = ref
        consultation.handoff_error = ""
        event = "handed_off"
    consultation.save(update_fields=["handoff_status", "handoff_ref", "handoff_error"])
    record(
        type=f"consultation.{event}",
        actor=actor,
        branch=consultation.branch,
        customer=consultation.customer,
        subject=consultation,
        payload={
            "consultation": consultation.pk,
            "outcome": consultation.outcome,
            "ref": consultation.handoff_ref,
            "error": consultation.handoff_error,
        },
    )


def handoff_run(*, consultation_id: int, actor=None) -> bool:
    """Hand a pending consultation on if its outcome's handler is registered; True if it ran.
    Safe to call twice: the second call finds it no longer pending."""
    if not _HANDLERS:
        return False
    with transaction.atomic():
        consultation = (
            Consultation.objects.select_for_update(of=("self",))
            .select_related("branch", "customer")
            .filter(
                pk=consultation_id,
                handoff_status=HandoffStatus.PENDING,
                outcome__in=list(_HANDLERS),
            )
            .first()
        )
        if consultation is None:
            return False
        _hand_on(consultation, actor)
    return True


def handoff_retry(*, actor, consultation: Consultation | int) -> Consultation:
    """Try a failed hand-off again (the advisor or a branch manager, once the cause is fixed)."""
    with transaction.atomic():
        consultation = lock_to_handle(actor, consultation)
        if consultation.handoff_status != HandoffStatus.FAILED:
            raise Conflict(_("Only a failed hand-off can be tried again."))
        consultation.handoff_status = HandoffStatus.PENDING
        if handler_for(consultation.outcome) is None:
            consultation.save(update_fields=["handoff_status"])
        else:
            _hand_on(consultation, actor)
    return consultation


def handoffs_retry(*, batch_size: int = RETRY_BATCH) -> int:
    """The sweep: hand on every pending consultation whose outcome now has a handler, in
    batches taken with SKIP LOCKED (a close handing on its own, or another sweep, is skipped and
    done by them). Idempotent: a handed-on consultation is no longer pending. Returns how many
    it handed on (done or failed)."""
    count, last_id = 0, 0
    while _HANDLERS:
        with transaction.atomic():
            batch = list(
                Consultation.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("branch", "customer")
                .filter(
                    handoff_status=HandoffStatus.PENDING,
                    outcome__in=list(_HANDLERS),
                    pk__gt=last_id,
                )
                .order_by("pk")[:batch_size]
            )
            for consultation in batch:
                _hand_on(consultation, None)
        count += len(batch)
        if len(batch) < batch_size:
            break
        last_id = batch[-1].pk
    return count
