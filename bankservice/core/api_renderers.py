"""JSON for the API, with an ETag on every successful read.

The ETag is a digest of the body, as Django's ConditionalGetMiddleware makes it, but set where
DRF renders: only API responses carry it, and the `Cache-Control: no-store, private` that
personal data gets (core.middleware.NoStoreMiddleware) does not suppress it (the middleware's
`needs_etag` skips no-store responses). No shared cache keeps anything; a client may revalidate
what it holds with `If-None-Match` and gets 304 without a body when nothing changed.
"""

import hashlib

from django.utils.cache import parse_etags, quote_etag
from rest_framework import renderers, status


def _matches(etag: str, if_none_match: str) -> bool:
    """RFC 9110 weak comparison, as for If-None-Match."""
    etags = parse_etags(if_none_match)
    return "*" in etags or etag.removeprefix("W/") in {e.removeprefix("W/") for e in etags}


class ConditionalJSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        body = super().render(data, accepted_media_type, renderer_context)
        renderer_context = renderer_context or {}
        request = renderer_context.get("request")
        response = renderer_context.get("response")
        if (
            request is None
            or response is None
            or request.method not in ("GET", "HEAD")
            or response.status_code != status.HTTP_200_OK
        ):
            return body
        etag = quote_etag(hashlib.md5(body, usedforsecurity=False).hexdigest())
        response["ETag"] = etag
        if _matches(etag, request.headers.get("If-None-Match", "")):
            response.status_code = status.HTTP_304_NOT_MODIFIED
            return b""
        return body
