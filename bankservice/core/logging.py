"""A logging filter that masks personal data before a record reaches any output.

Log lines go to files, terminals and log shippers that staff without customers.reveal_pii can
read, so a national ID, phone number, e-mail address or card/account number written into a
message (or its arguments, or an exception's text) leaves the process masked with the same rules
as the screens (bankservice/core/masking.py). Wired on the handlers in settings.LOGGING: a filter
on a handler sees every record it writes, including those propagated from child loggers.
"""

import logging
import re

from .masking import mask_email, mask_identifier, mask_phone

# Applied in this order: an e-mail address may hold digits, and an 18-character resident ID
# would otherwise be read as a card number.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_RESIDENT_ID = re.compile(r"(?<![\w*])\d{17}[\dXx](?![\w*])")
# Mainland mobile numbers (with or without +86) and other numbers in international form.
_PHONE = re.compile(r"(?<![\w*+])(?:\+861[3-9]\d{9}|1[3-9]\d{9}|\+[1-9]\d{7,14})(?![\w*])")
# Card and account numbers: 12 to 19 digits, optionally grouped by spaces or dashes.
_ACCOUNT = re.compile(r"(?<![\w*])\d(?:[ -]?\d){11,18}(?![\w*])")


def _mask_account(value: str) -> str:
    # The rule of the e-forms' account-number field (transactions/eforms.py MASKS).
    return mask_identifier(re.sub(r"[ -]", "", value), head=4, tail=4)


def mask_pii(text: str) -> str:
    """`text` with every national ID, phone number, e-mail address and card number masked."""
    text = _EMAIL.sub(lambda m: mask_email(m.group()), text)
    text = _RESIDENT_ID.sub(lambda m: mask_identifier(m.group()), text)
    text = _PHONE.sub(lambda m: mask_phone(m.group()), text)
    return _ACCOUNT.sub(lambda m: _mask_account(m.group()), text)


class PersonalDataFilter(logging.Filter):
    """Rewrite a record's message, arguments and exception text with personal data masked."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "pii_masked", False):  # a record written by several handlers
            return True
        # The arguments are merged first: "%s" % national_id must not escape the mask.
        record.msg = mask_pii(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_pii(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_pii(record.stack_info)
        record.pii_masked = True
        return True
