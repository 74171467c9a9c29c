"""A deprecated API view says so on every response (bankservice/core/api_deprecation.py)."""

import datetime as dt

import pytest
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from bankservice.core.api_deprecation import deprecated


@deprecated(since=dt.date(2027, 1, 1), sunset=dt.date(2027, 7, 1), link="https://example.com/n")
class OldView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"field": ["Refused."]}, status=400)


class CurrentView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


@pytest.mark.django_db
def test_every_response_of_a_deprecated_view_carries_the_headers():
    factory = APIRequestFactory()
    for request in (factory.get("/api/v1/old"), factory.post("/api/v1/old", {})):
        response = OldView.as_view()(request)
        assert response["Deprecation"] == "@1798761600"  # 2027-01-01T00:00:00Z
        assert response["Sunset"] == "Thu, 01 Jul 2027 00:00:00 GMT"
        assert response["Link"] == '<https://example.com/n>; rel="deprecation"'
    current = CurrentView.as_view()(factory.get("/api/v1/current"))
    assert "Deprecation" not in current and "Sunset" not in current


def test_a_sunset_before_the_deprecation_is_refused():
    with pytest.raises(ValueError, match="sunset"):
        deprecated(since=dt.date(2027, 7, 1), sunset=dt.date(2027, 1, 1))
