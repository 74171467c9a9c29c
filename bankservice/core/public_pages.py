"""Helpers of the customer's public pages (no login: a kiosk, a status page reached by a token,
a booking, a complaint form, a survey, an opt-out link), shared by every stage that has some.

- `in_page_language`: render a view in `?lang=` when given (for this request only);
  `requested_language`, `with_lang` and `language_links` (the language toggle) go with it.
- `public_response`: token pages are kept by no shared cache and listed by no search engine.
- `over_rate_limit`: a fixed-window count per client address and scope, in the shared cache.
"""

import hashlib
from functools import wraps
from urllib.parse import urlencode

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.utils import translation


def requested_language(request) -> str | None:
    requested = request.GET.get("lang") or request.POST.get("lang")
    return requested if requested in dict(settings.LANGUAGES) else None


def in_page_language(view):
    """Render the view in ?lang= when given (for this request only), else the usual language."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        requested = requested_language(request)
        language = requested or translation.get_language()
        with translation.override(language):
            request.LANGUAGE_CODE = language
            request.page_lang = requested  # carried on by links, forms and refreshes
            response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Language", language)
        return response

    return wrapped


def with_lang(url: str, lang: str | None) -> str:
    return f"{url}?{urlencode({'lang': lang})}" if lang else url


def language_links(request) -> list[dict]:
    """The language toggle: each language links to this page in it."""
    current = translation.get_language()
    return [
        {
            "code": code,
            "name": translation.get_language_info(code)["name_local"],
            "url": with_lang(request.path, code),
            "current": code == current,
        }
        for code, _name in settings.LANGUAGES
    ]


def public_response(response):
    """Token pages: kept by no shared cache, listed by no search engine."""
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def over_rate_limit(request, *, scope: str, limit: int, seconds: int) -> bool:
    """Count one more action of `scope` (remote tickets, public bookings, survey answers) for
    the client address; True past `limit` in a fixed window of `seconds` from the first one.

    The address is the one login throttling sees (axes: AXES_CLIENT_IP_CALLABLE behind a
    proxy), kept as a digest. `add` starts the window; `incr` is atomic on Redis (and good
    enough on the file cache of a single machine).
    """
    address = get_client_ip_address(request) or "unknown"
    key = f"public:{scope}:ip:" + hashlib.sha256(address.encode()).hexdigest()
    cache.add(key, 0, timeout=seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        count = 1
    return count > limit
