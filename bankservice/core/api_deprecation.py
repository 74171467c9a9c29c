"""Marking an API view deprecated (docs/api.md, "Versions and deprecation").

    @deprecated(since=date(2027, 1, 1), sunset=date(2027, 7, 1), link="https://…/docs/api#…")
    class OldThingViewSet(...): ...

Every response of the view then carries `Deprecation: @<since, epoch seconds>` (RFC 9745),
`Sunset: <HTTP date>` (RFC 8594) and, given a link, `Link: <…>; rel="deprecation"`; mark the
operations `deprecated=True` in `@extend_schema` too, so the OpenAPI schema says it.
"""

import datetime as dt

from django.utils.http import http_date


def _epoch(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())


def deprecation_headers(*, since: dt.date, sunset: dt.date, link: str = "") -> dict[str, str]:
    headers = {"Deprecation": f"@{_epoch(since)}", "Sunset": http_date(_epoch(sunset))}
    if link:
        headers["Link"] = f'<{link}>; rel="deprecation"'
    return headers


def deprecated(*, since: dt.date, sunset: dt.date, link: str = ""):
    """Class decorator for DRF views: the deprecation headers on every response."""
    if sunset <= since:
        raise ValueError("sunset must come after since")
    headers = deprecation_headers(since=since, sunset=sunset, link=link)

    def decorate(view_class):
        finalize_response = view_class.finalize_response

        def finalize_with_headers(self, request, response, *args, **kwargs):
            response = finalize_response(self, request, response, *args, **kwargs)
            for name, value in headers.items():
                response[name] = value
            return response

        view_class.finalize_response = finalize_with_headers
        return view_class

    return decorate
