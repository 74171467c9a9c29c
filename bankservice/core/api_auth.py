"""API-key authentication: `Authorization: Api-Key bsk_<prefix>_<secret>`; after a rotation
the previous key too, until its overlap ends (bankservice/core/services.py)."""

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import ApiClient, api_scope_for_perm
from .services import apiclient_touch

KEYWORD = "Api-Key"


@dataclass
class ApiClientPrincipal:
    """Stands in for request.user when a system calls: its scopes play the part of permissions."""

    client: ApiClient
    branch_ids: frozenset[int] | None = None  # None: every branch
    scopes: frozenset[str] = field(default_factory=frozenset)

    is_authenticated = True
    is_active = True
    is_superuser = False
    is_staff = False
    is_api_client = True
    pk = None

    def __str__(self) -> str:
        return f"api:{self.client.name}"

    def has_perm(self, perm: str, obj=None) -> bool:
        return api_scope_for_perm(perm) in self.scopes

    def branch_ids_for(self, perm: str) -> frozenset[int] | None:
        if not self.has_perm(perm):
            return frozenset()
        return self.branch_ids


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _sep, raw_key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        raw_key = raw_key.strip()
        parts = raw_key.split("_", 2)  # the secret itself may contain "_"
        if len(parts) != 3 or parts[0] != "bsk":
            raise exceptions.AuthenticationFailed(_("Malformed API key."))
        # One query, no ORDER BY: key_prefix is unique and previous_key_prefix indexed (PostgreSQL
        # ORs the two indexes); should a new prefix ever equal another client's previous one, the
        # hash decides. The branch ids only after the key matched and only for a client limited
        # to some branches, as a flat id list: a prefetch costs several times a plain query on
        # every request.
        candidates = ApiClient.objects.filter(
            Q(key_prefix=parts[1]) | Q(previous_key_prefix=parts[1]), is_active=True
        ).order_by()
        now = timezone.now()
        client = next((c for c in candidates if c.key_matches(raw_key, now)), None)
        if client is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        apiclient_touch(client=client)
        branch_ids = (
            None if client.all_branches else frozenset(client.branches.values_list("pk", flat=True))
        )
        principal = ApiClientPrincipal(
            client=client, branch_ids=branch_ids, scopes=frozenset(client.scopes)
        )
        return principal, client

    def authenticate_header(self, request) -> str:
        return KEYWORD


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "bankservice.core.api_auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; keys are issued to API clients by an administrator.",
        }
