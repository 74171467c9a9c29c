"""Domain errors raised by services; the API maps them to HTTP statuses, forms to messages."""


class DomainError(Exception):
    """A rule of the business refuses the change (HTTP 409 unless a subclass says otherwise)."""

    status_code = 409

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict:
        if self.field:
            return {self.field: [self.message]}
        return {"detail": self.message}


class Conflict(DomainError):
    """The change conflicts with what is stored (a duplicate, a changed state)."""


class BadInput(DomainError):
    """The request names something that cannot be used here (HTTP 400, a field error)."""

    status_code = 400
