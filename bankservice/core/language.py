"""Text kept in both languages (names, labels, titles): the one in the active language."""

from django.utils.translation import get_language


def in_language(zh: str, en: str) -> str:
    """`en` when English is active, else `zh`; the other one when that is empty."""
    if (get_language() or "").startswith("en"):
        return en or zh
    return zh or en
