"""Masking of personal data for screens and the API."""

MASK = "*"


def mask_identifier(value: str | None, *, head: int = 3, tail: int = 4) -> str:
    """Keep the first `head` and last `tail` characters: 110101********1234 -> 110***********1234."""
    if not value:
        return ""
    if len(value) <= head + tail:
        return MASK * len(value)
    return value[:head] + MASK * (len(value) - head - tail) + value[-tail:]


def mask_phone(value: str | None) -> str:
    """+8613800138000 -> +86138****8000: country code and the carrier prefix stay readable."""
    if not value:
        return ""
    head = 6 if value.startswith("+86") else 4
    return mask_identifier(value, head=head, tail=4)


def mask_email(value: str | None) -> str:
    """chen.yi@example.cn -> c******@example.cn"""
    if not value:
        return ""
    local, at, domain = value.partition("@")
    if not at:
        return MASK * len(value)
    return local[:1] + MASK * max(len(local) - 1, 1) + "@" + domain
