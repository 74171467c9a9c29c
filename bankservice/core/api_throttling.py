"""Rate limits of the API: per API client, per member of staff, per address for anonymous calls.

Counted in the shared cache (Redis in production, so every worker sees one count) in fixed
windows: an atomic `incr` of a key named after the window (`add` starts it), which expires
after it. A refused call answers 429 with `Retry-After` (the seconds left in the window) and
the usual error body. Refused calls count too.

The cache is a guard, not a dependency: when it cannot be reached the request goes through
(fail open) rather than the API answering 500 while Redis is away.
"""

import hashlib
import logging
import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework import throttling

logger = logging.getLogger(__name__)


class WindowRateThrottle(throttling.BaseThrottle):
    """`rate_setting` names a settings value such as "600/min" (None or "" turns it off)."""

    scope = ""
    rate_setting = ""

    def ident(self, request) -> str | None:
        """Who is counted; None: this throttle does not apply to the request."""
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        rate = getattr(settings, self.rate_setting, None)
        ident = self.ident(request)
        if not rate or ident is None:
            return True
        limit, seconds = throttling.SimpleRateThrottle.parse_rate(self, rate)
        now = time.time()
        window = int(now // seconds)
        self.retry_after = seconds - (now - window * seconds)
        key = f"throttle:{self.scope}:{ident}:{window}"
        try:
            try:
                count = cache.incr(key)
            except ValueError:  # the window's first call; it outlives the window (clock skew)
                count = 1 if cache.add(key, 1, timeout=2 * seconds) else cache.incr(key)
        except ValueError:  # a cache that keeps nothing (Redis away, see core/cache.py)
            return True
        except (RedisError, OSError):
            logger.warning("API throttle %s: cache unavailable, request let through", self.scope)
            return True
        return count <= limit

    def wait(self) -> float:
        return self.retry_after


class ApiClientRateThrottle(WindowRateThrottle):
    """Per API client (all its keys' calls together): settings.API_RATE_CLIENT."""

    scope = "client"
    rate_setting = "API_RATE_CLIENT"

    def ident(self, request) -> str | None:
        user = request.user
        return str(user.client.pk) if getattr(user, "is_api_client", False) else None


class StaffRateThrottle(WindowRateThrottle):
    """Per signed-in member of staff (session): settings.API_RATE_USER."""

    scope = "user"
    rate_setting = "API_RATE_USER"

    def ident(self, request) -> str | None:
        user = request.user
        if not user or not user.is_authenticated or getattr(user, "is_api_client", False):
            return None
        return str(user.pk)


class AnonymousRateThrottle(WindowRateThrottle):
    """Per client address for calls without credentials: settings.API_RATE_ANON.

    The address is the one login throttling sees (axes, AXES_CLIENT_IP_CALLABLE behind a proxy),
    kept as a digest.
    """

    scope = "anon"
    rate_setting = "API_RATE_ANON"

    def ident(self, request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        address = get_client_ip_address(request) or "unknown"
        return hashlib.sha256(address.encode()).hexdigest()
