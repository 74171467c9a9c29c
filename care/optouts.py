"""A customer's "do not contact me" for care (surveys, campaigns, or every care contact), and
by which channel a message may reach them.

Every care sender asks `opted_out()` before contacting: callback_create (scope "all"), the
survey sender (surveys or all), the campaign runner (campaigns or all). `opt_out()` records one
(from a survey's or a campaign message's opt-out link, by staff, or through the API); saying it
twice changes nothing.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from bankservice.core.errors import BadInput
from bankservice.customers.selectors import customer_in_use
from bankservice.events.services import record

from .models import CareOptOut, ExclusionReason, OptOutScope


def opted_out(customer, scope: str) -> bool:
    """True when the customer opted out of `scope` or of every care contact."""
    return CareOptOut.objects.filter(customer=customer, scope__in={scope, OptOutScope.ALL}).exists()


def opt_out(*, customer, scope: str, source: str, actor=None, branch=None) -> CareOptOut:
    """Record the opt-out (idempotent) with a `care.opted_out` event; returns the row. It is
    the record in use's: a link sent to a duplicate merged since opts out the survivor."""
    if scope not in OptOutScope.values:
        raise BadInput(_("Choose a valid scope."), field="scope")
    customer = customer_in_use(customer)
    with transaction.atomic():
        existing = CareOptOut.objects.filter(customer=customer, scope=scope).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                row = CareOptOut.objects.create(customer=customer, scope=scope, source=source[:60])
        except IntegrityError:  # the same opt-out, committed meanwhile
            return CareOptOut.objects.get(customer=customer, scope=scope)
        record(
            type="care.opted_out",
            actor=actor,
            branch=branch or customer.home_branch,
            customer=customer,
            subject=row,
            payload={"scope": scope, "source": row.source},
        )
    return row


def reachable_by(customer, channels=("email", "sms")) -> tuple[str, str]:
    """(channel, "") for the first of `channels` the customer consents to and has an address
    for, or ("", why not: ExclusionReason no_consent or no_address)."""
    consented = [
        c for c in channels if (customer.consent_email if c == "email" else customer.consent_sms)
    ]
    if not consented:
        return "", ExclusionReason.NO_CONSENT
    for channel in consented:
        if customer.email if channel == "email" else customer.phone:
            return channel, ""
    return "", ExclusionReason.NO_ADDRESS
