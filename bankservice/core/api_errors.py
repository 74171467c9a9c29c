"""One error format for the API: `{"detail": ...}` or field-keyed messages, never a 500 for
bad input or a conflicting state.

DRF raises through `exception_handler`; what fails before or outside a DRF view (no such URL, a
request Django refuses, an unhandled error) reaches Django's handlers, which answer the same
JSON under /api/ (`bad_request`, `not_found`, `server_error`: handler400/404/500 in the urls).
"""

import logging
import sys

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class Unavailable(exceptions.APIException):
    """The database is away or a lock wait timed out: worth a retry, not a 500."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is briefly unavailable; try again shortly.")
    default_code = "unavailable"
    wait = 5  # seconds, as Retry-After


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, IntegrityError):
        exc = Conflict()
    elif isinstance(exc, DataError):
        # A value the database cannot hold (out of range, too long) that validation let by.
        logger.warning("API request refused by the database: %s", exc)
        exc = exceptions.ValidationError({"detail": [gettext("A value is out of range.")]})
    elif isinstance(exc, OperationalError):
        logger.exception("API request failed on the database")
        exc = Unavailable()
    return drf_exception_handler(exc, context)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": gettext("Bad request.")}, status=400)
    return defaults.bad_request(request, exception)


def not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": gettext("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def database_unavailable_response(request):
    """503 with Retry-After when the database is away: `{"detail": ...}` under /api/, elsewhere
    a page that needs neither the database nor the base template."""
    message = gettext(Unavailable.default_detail)
    if _is_api(request):
        response = JsonResponse({"detail": message}, status=503)
    else:
        title = gettext("Service unavailable")
        response = HttpResponse(
            format_html(
                '<!doctype html><html><head><meta charset="utf-8"><title>{}</title></head>'
                "<body><h1>{}</h1><p>{}</p></body></html>",
                title,
                title,
                message,
            ),
            status=503,
        )
    response["Retry-After"] = str(Unavailable.wait)
    return response


def server_error(request):
    # The database failed outside a view (loading the session or the user): still a 503.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable_response(request)
    if _is_api(request):
        return JsonResponse({"detail": gettext("A server error occurred.")}, status=500)
    return defaults.server_error(request)


class DetailSerializer(serializers.Serializer):
    """The error body of a refused request: `{"detail": "…"}` (for the OpenAPI schema)."""

    detail = serializers.CharField()
