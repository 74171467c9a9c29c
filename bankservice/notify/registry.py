"""The registry of message keys: every message the service desk can send is declared here.

The kernel declares its own keys below. A stage app declares its keys in its AppConfig.ready():

    from bankservice.notify.registry import MessageType, register
    register(MessageType("ticket.called", _("Your number is called"), required=("number",)))

and ships templates `notify/<key>/<channel>.<language>.txt` in its own `templates/` folder (see
`bankservice/notify/rendering.py`). tests/notify checks every key has every template it needs.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from bankservice.core.errors import DomainError

CHANNELS = ("sms", "email")


class UnknownMessage(DomainError):
    """A message key that nobody registered (a programming error in the caller)."""

    status_code = 400


@dataclass(frozen=True)
class MessageType:
    """A message key, what it is for, and what its templates need."""

    key: str
    description: str  # lazy translation
    # Context keys the caller must pass (the template may use more, optional ones). Every
    # template also gets customer_name, branch_name and reference, filled in at send time.
    required: tuple[str, ...] = ()
    channels: tuple[str, ...] = CHANNELS
    # False for messages the customer is waiting for right now (e.g. "your number is called").
    quiet_hours: bool = True
    # Example context: used by the template test and as documentation.
    sample: dict = field(default_factory=dict)


MESSAGE_TYPES: dict[str, MessageType] = {}


def register(message_type: MessageType) -> MessageType:
    """Declare a message key; declaring the same key twice is a mistake."""
    if message_type.key in MESSAGE_TYPES and MESSAGE_TYPES[message_type.key] != message_type:
        raise ValueError(f"Message key {message_type.key!r} is already registered.")
    unknown = set(message_type.channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"Unknown channels for {message_type.key!r}: {sorted(unknown)}")
    MESSAGE_TYPES[message_type.key] = message_type
    return message_type


def message_type(key: str) -> MessageType:
    try:
        return MESSAGE_TYPES[key]
    except KeyError:
        raise UnknownMessage(
            _("No message is registered as %(key)s.") % {"key": key}, field="template"
        ) from None


# --- The kernel's own messages.
register(
    MessageType(
        "customer.welcome",
        _("Welcome message after a customer's record is created"),
    )
)
register(
    MessageType(
        "generic.message",
        _("Free text written by staff, with a greeting and the branch's signature"),
        required=("text",),
        sample={"text": "Your documents are ready for collection."},
    )
)
