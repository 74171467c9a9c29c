"""Errors the deadline services raise (the API maps DomainError subclasses to HTTP statuses)."""

from bankservice.core.errors import Conflict, DomainError


class DeadlineStateError(Conflict):
    """The deadline's state does not allow the change (met, breached, cancelled, paused …)."""


class DeadlineAlreadyOpen(Conflict):
    """The object already has an open deadline of that kind."""


class InvalidExtension(DomainError):
    """An extension without a reason, or one that does not move the due time later."""

    status_code = 400
