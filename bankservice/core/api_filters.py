"""Query-string filters for the API that refuse, as a 400 with the field's message, values the
database cannot compare (instead of a database error and a 500)."""

import datetime as dt

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField as BaseIsoDateTimeField

# PostgreSQL keeps UTC offsets within ±15:59; SQLite compares in UTC, which must stay in range.
MAX_UTC_OFFSET = dt.timedelta(hours=15, minutes=59)


class IsoDateTimeField(BaseIsoDateTimeField):
    default_error_messages = {
        "out_of_range": _("Enter a date and time with a UTC offset within ±15:59 (years 1–9999)."),
    }

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            value.astimezone(dt.UTC)
        except OverflowError:
            raise ValidationError(
                self.error_messages["out_of_range"], code="out_of_range"
            ) from None
        offset = value.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return value


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = IsoDateTimeField
