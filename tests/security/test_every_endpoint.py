"""Every URL and every API operation, asked by everyone who must not see branch A's data.

What is walked
    Every URL pattern Django resolves (`get_resolver()`, recursively through every include and
    the API routers) and every operation (path x method) of the drf-spectacular schema. Each
    pattern's name must be in URLS below (how to fill its path parameters with branch A's real
    objects, tests/security/world.py), each schema path's first segment in API_RESOURCES: a new
    page or API operation fails `test_every_url_and_operation_is_in_the_registry` until it is
    added here, so nothing new escapes the matrix.

Who asks (`_principals`)
    * one user holding every branch role (greeter ... branch manager) at branch B (same region
      as A): the strongest principal branch B has. Roles only add permissions, so what this
      user cannot open of A's, no single role at B can. What it gives up: a page that fails
      (500) for one single role only is not caught here, and "403 on role" (a greeter refused
      a manager's page at its own branch) is not this test's property -- each app's own tests
      check their roles;
    * a regional manager of another region;
    * an API client with every scope, restricted to branch B (API operations only);
    * anonymous;
    * head-office roles (hq_manager, auditor, administrator) see every branch by design, so for
      them branch is not the boundary; they are checked on role instead: no 500 anywhere, and the
      read-only auditor changes nothing (no event recorded) by any POST.
    The API schema (SAME_FOR_EVERY_USER) is the same for every signed-in user and costs seconds
    to build: only branch B's principal and anonymous ask for it.

What must happen
    * A URL with path parameters (one of A's objects), for branch B, the other region and the
      API client: 403, 404 or 405. A POST refused by its service may redirect back with the
      message, and an API write may answer 400 to its empty body (DRF validates the body before
      it looks the object up), as long as nothing changed (no event recorded) and nothing of A's
      is shown. Anonymous: a redirect to sign-in (401/403 on the API). Never 500.
    * A URL without parameters (lists, dashboards, forms): never 500, and the body never holds
      MARKER (written into A's customer, complaint and appointment). Anonymous: sign-in.
    * Both GET and POST (empty form) for every page; the schema's method for every operation.
    * Public customer-facing pages (PUBLIC below, each with why it is public) take a secret
      token: a made-up token gives 404; the real one answers (so the test proves the token is
      what gates it).
    * The admin site: every admin URL redirects any non-`is_staff` user (every branch role) and
      anonymous to the admin sign-in.
"""

import io
import re
import secrets
from http.cookies import SimpleCookie

import openpyxl
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from bankservice.branches.models import Role
from bankservice.branches.services import membership_grant
from bankservice.core.models import ApiScope
from bankservice.core.services import apiclient_create
from bankservice.events.models import Event
from complaints.models import Letter

from .world import BRANCH_B, MARKER, OTHER_REGION, build_world

BRANCH_ROLES = [
    Role.GREETER,
    Role.TELLER,
    Role.ADVISOR,
    Role.PROCESSOR,
    Role.APPROVER,
    Role.COMPLAINT_OFFICER,
    Role.CARE_AGENT,
    Role.CARE_LEAD,
    Role.BRANCH_MANAGER,
]
ALL_ROLES_AT_B = "every-branch-role@B"
HEAD_OFFICE = {"hq_manager": "hq_manager", "auditor": "auditor", "admin": "administrator"}

# --- The registry: url name -> path parameters from branch A's objects (w: world.py). --------
# None: the pattern takes no parameters.
URLS = {
    "home": None,
    "healthz": None,
    "login": None,
    "logout": None,
    "set_language": None,
    "schema": None,
    "api-docs": None,
    "customers:list": None,
    "customers:new": None,
    "customers:detail": lambda w: {"customer_id": w.customer.pk},
    "customers:edit": lambda w: {"customer_id": w.customer.pk},
    "customers:reveal": lambda w: {"customer_id": w.customer.pk},
    "customers:merge": lambda w: {"customer_id": w.customer.pk},
    "branches:list": None,
    "branches:detail": lambda w: {"branch_id": w.branch_a.pk},
    "events:audit": None,
    "events:export": None,
    "reception:floor": None,
    "reception:floor-live": None,
    "reception:issue": None,
    "reception:console": None,
    "reception:console-live": None,
    "reception:sign-in": lambda w: {"counter_id": w.counter.pk},
    "reception:sign-out": lambda w: {"counter_id": w.counter.pk},
    "reception:pause": lambda w: {"counter_id": w.counter.pk},
    "reception:resume": lambda w: {"counter_id": w.counter.pk},
    "reception:call-next": lambda w: {"counter_id": w.counter.pk},
    "reception:recall": lambda w: {"ticket_id": w.ticket.pk},
    "reception:start": lambda w: {"ticket_id": w.ticket.pk},
    "reception:complete": lambda w: {"ticket_id": w.ticket.pk},
    "reception:no-show": lambda w: {"ticket_id": w.ticket.pk},
    "reception:transfer": lambda w: {"ticket_id": w.ticket.pk},
    "reception:park": lambda w: {"ticket_id": w.ticket.pk},
    "reception:unpark": lambda w: {"ticket_id": w.ticket.pk},
    "reception:appointments": None,
    "reception:appointment-new": None,
    "reception:appointment-reschedule": lambda w: {"appointment_id": w.appointment.pk},
    "reception:appointment-cancel": lambda w: {"appointment_id": w.appointment.pk},
    "reception:appointment-check-in": lambda w: {"appointment_id": w.appointment.pk},
    "reception:advisors": None,
    "reception:my-calendar": None,
    "reception:advisor-calendar": lambda w: {"advisor_id": w.advisor.pk},
    "reception:availability-add": lambda w: {"advisor_id": w.advisor.pk},
    "reception:availability-delete": lambda w: {"availability_id": w.availability.pk},
    "reception:time-off-add": lambda w: {"advisor_id": w.advisor.pk},
    "reception:time-off-delete": lambda w: {"time_off_id": w.time_off.pk},
    # The knowledge base is the bank's, not a branch's: checked on role (BANKWIDE_OBJECTS).
    "consultation:kb-home": None,
    "consultation:kb-article-new": None,
    "consultation:kb-review": None,
    "consultation:kb-unanswered": None,
    "consultation:kb-article": lambda w: {"article_id": w.article.pk},
    "consultation:kb-article-edit": lambda w: {"article_id": w.article.pk},
    "consultation:kb-feedback": lambda w: {"article_id": w.article.pk},
    "consultation:kb-history": lambda w: {"article_id": w.article.pk},
    "consultation:kb-version-new": lambda w: {"article_id": w.article.pk},
    "consultation:kb-article-archive": lambda w: {"article_id": w.article.pk},
    "consultation:kb-attachment-add": lambda w: {"article_id": w.article.pk},
    "consultation:kb-attachment": lambda w: {"attachment_id": w.kb_attachment.pk},
    "consultation:kb-attachment-remove": lambda w: {"attachment_id": w.kb_attachment.pk},
    "consultation:kb-version": lambda w: {"version_id": w.version.pk},
    "consultation:kb-version-edit": lambda w: {"version_id": w.version.pk},
    "consultation:kb-version-submit": lambda w: {"version_id": w.version.pk},
    "consultation:kb-version-approve": lambda w: {"version_id": w.version.pk},
    "consultation:kb-version-return": lambda w: {"version_id": w.version.pk},
    "consultation:assistant-suggest": None,
    "consultation:list": None,
    "consultation:new": None,
    "consultation:start-from-ticket": lambda w: {"ticket_id": w.ticket.pk},
    "consultation:detail": lambda w: {"consultation_id": w.consultation.pk},
    "consultation:edit": lambda w: {"consultation_id": w.consultation.pk},
    "consultation:article": lambda w: {"consultation_id": w.consultation.pk},
    "consultation:close": lambda w: {"consultation_id": w.consultation.pk},
    "consultation:handoff-retry": lambda w: {"consultation_id": w.consultation.pk},
    "transactions:worklist": None,
    "transactions:new": None,
    "transactions:bundle-run": lambda w: {"run_id": w.bundle_run.pk},
    "transactions:bundle-confirm": lambda w: {"run_id": w.bundle_run.pk},
    "transactions:request": lambda w: {"request_id": w.request.pk},
    "transactions:receipt": lambda w: {"request_id": w.request.pk},
    "transactions:receipt-pdf": lambda w: {"request_id": w.request.pk},
    "transactions:save": lambda w: {"request_id": w.request.pk},
    "transactions:decide": lambda w: {"request_id": w.request.pk},
    "transactions:cancel": lambda w: {"request_id": w.request.pk},
    "transactions:document-upload": lambda w: {"request_id": w.request.pk},
    "transactions:document": lambda w: {"request_id": w.request.pk, "document_id": w.document.pk},
    "transactions:document-remove": lambda w: {
        "request_id": w.request.pk,
        "document_id": w.document.pk,
    },
    "complaints:list": None,
    "complaints:new": None,
    "complaints:extensions": None,
    "complaints:extension-decide": lambda w: {"extension_id": w.extension.pk},
    "complaints:actions": None,
    "complaints:action-complete": lambda w: {"action_id": w.corrective_action.pk},
    "complaints:complaint_reports:report": None,
    "complaints:complaint_reports:export_csv": None,
    "complaints:complaint_reports:export_xlsx": None,
    "complaints:detail": lambda w: {"complaint_id": w.complaint.pk},
    "complaints:action": lambda w: {"complaint_id": w.complaint.pk, "action": "acknowledge"},
    "complaints:attachment-upload": lambda w: {"complaint_id": w.complaint.pk},
    "complaints:attachment": lambda w: {
        "complaint_id": w.complaint.pk,
        "attachment_id": w.complaint_attachment.pk,
    },
    "complaints:attachment-remove": lambda w: {
        "complaint_id": w.complaint.pk,
        "attachment_id": w.complaint_attachment.pk,
    },
    "care:worklist": None,
    "care:callback": lambda w: {"callback_id": w.callback.pk},
    "care:reveal": lambda w: {"callback_id": w.callback.pk},
    "care:claim": lambda w: {"callback_id": w.callback.pk},
    "care:attempt": lambda w: {"callback_id": w.callback.pk},
    "care:complete": lambda w: {"callback_id": w.callback.pk},
    "care:cancel": lambda w: {"callback_id": w.callback.pk},
    "care:release": lambda w: {"callback_id": w.callback.pk},
    "care:surveys": None,
    "care:survey": lambda w: {"survey_id": w.survey.pk},
    # Campaigns are the bank's (no branch): checked on role (BANKWIDE_OBJECTS).
    "care:campaigns": None,
    "care:campaign_new": None,
    "care:campaign": lambda w: {"campaign_id": w.campaign.pk},
    "care:campaign_edit": lambda w: {"campaign_id": w.campaign.pk},
    "care:campaign_dry_run": lambda w: {"campaign_id": w.campaign.pk},
    "care:campaign_import": lambda w: {"campaign_id": w.campaign.pk},
    "care:campaign_schedule": lambda w: {"campaign_id": w.campaign.pk},
    "care:campaign_cancel": lambda w: {"campaign_id": w.campaign.pk},
    "dashboards:overview": None,
    "dashboards:definitions": None,
    "dashboards:trends": None,
    "dashboards:monitor": None,
    "dashboards:monitor_panel": None,
    "dashboards:alert_rules": None,
    "dashboards:alert_rule_edit": lambda w: {"pk": w.alert_rule.pk},
    "dashboards:alert_rule_delete": lambda w: {"pk": w.alert_rule.pk},
    "dashboards:evaluation": None,
    "dashboards:staffing": None,
    "dashboards:staff": None,
    "dashboards:monthly_report": None,
    # Account security: the user's own pages; managers act on users of their branches.
    "security:home": None,
    "security:roles": None,
    "security:sign_out_everywhere": None,
    "security:users": None,
    "security:reset": lambda w: {"user_id": w.user_a.pk},
    "security:user_sign_out": lambda w: {"user_id": w.user_a.pk},
    "two_factor:enrol": None,
    "two_factor:verify": None,
    # API clients are the bank's (administrators): checked on role (BANKWIDE_OBJECTS).
    "apiclients:list": None,
    "apiclients:new": None,
    "apiclients:detail": lambda w: {"client_id": w.api_client.pk},
    "apiclients:reactivate": lambda w: {"client_id": w.api_client.pk},
    "apiclients:revoke": lambda w: {"client_id": w.api_client.pk},
    "apiclients:rotate": lambda w: {"client_id": w.api_client.pk},
    # An SMS gateway's delivery receipts: its own signature, no session (checked below).
    "notify:sms_receipt": None,
}

# Public customer-facing pages: why each is public, and the secret that gates it.
PUBLIC = {
    # The kiosk and the display run unattended in the branch hall: the device token is the key.
    "reception_public:kiosk": lambda w: {"token": w.kiosk.token},
    "reception_public:kiosk-ticket": lambda w: {
        "token": w.kiosk.token,
        "public_token": w.ticket.public_token,
    },
    "reception_public:board": lambda w: {"token": w.display.token},
    "reception_public:board-feed": lambda w: {"token": w.display.token},
    # The customer's own ticket, request, complaint and survey pages: the link they were sent.
    "reception_public:status": lambda w: {"public_token": w.ticket.public_token},
    "reception_public:appointment": lambda w: {"reference": w.appointment.reference},
    "transactions_public:progress": lambda w: {"public_token": w.submitted_request.public_token},
    "complaints_public:progress": lambda w: {"public_token": w.complaint.public_token},
    "complaints_public:received": lambda w: {"public_token": w.complaint.public_token},
    "complaints_public:accept": lambda w: {"public_token": w.complaint.public_token},
    "complaints_public:review": lambda w: {"public_token": w.complaint.public_token},
    "care_survey:survey": lambda w: {"token": w.survey.public_token},
    "care_survey:thanks": lambda w: {"token": w.survey.public_token},
    "care_survey:opt-out": lambda w: {"token": w.survey.public_token},
    "care_campaign:opt_out": lambda w: {"public_token": w.campaign_target.public_token},
}
# Public pages with no secret: they show no personal data (a blank form, a branch's booking).
PUBLIC_OPEN = {
    "complaints_public:form": None,  # anyone may complain, signed in or not
    "reception_public:checkin": lambda w: {"branch_code": w.branch_a.code},  # remote check-in
    "reception_public:book": lambda w: {"branch_code": w.branch_a.code},  # book a slot
}
# Pages that need no sign-in and hold nothing private.
OPEN = {"login", "logout", "set_language", "healthz", "notify:sms_receipt", "two_factor:verify"}
# The user's own account: anyone signed in, the auditor too, may change these for themselves.
OWN_ACCOUNT = {"logout", "set_language", "security:sign_out_everywhere", "two_factor:enrol"}
# Pages that answer every signed-in user alike: the API schema is generated from the code with
# public=True (drf-spectacular's SERVE_PUBLIC), whoever asks, and costs seconds a time; it is
# asked for by branch B's principal (and refused to anonymous), not by every principal.
SAME_FOR_EVERY_USER = {"schema"}
# Objects that are the bank's rather than a branch's: for them, only the role is the boundary.
BANKWIDE_OBJECTS = {
    name for name in URLS if name.startswith(("consultation:kb-", "care:campaign", "apiclients:"))
}

# API: resource (first path segment under /api/v1/) -> the values of its path parameters.
API_RESOURCES = {
    "customers": lambda w: {"id": w.customer.pk, "core_banking_id": w.customer.core_banking_id},
    "branches": lambda w: {"id": w.branch_a.pk},
    "events": lambda w: {"id": w.complaint_event.pk},
    "webhook-subscriptions": None,  # bank-wide (administrators), no branch
    "webhook-deliveries": None,
    "service-types": lambda w: {"id": w.ticket.service_type_id},
    "counters": lambda w: {"id": w.counter.pk},
    "tickets": lambda w: {"id": w.ticket.pk},
    "priority-rules": lambda w: {"branch": w.branch_a.code},
    "appointments": lambda w: {"id": w.appointment.pk},
    "advisor-availability": lambda w: {"id": w.availability.pk},
    "advisor-time-off": lambda w: {"id": w.time_off.pk},
    "kb": None,  # bank-wide knowledge base
    "assistant": None,
    "consultations": lambda w: {"id": w.consultation.pk},
    "request-types": None,  # bank-wide configuration
    "requests": lambda w: {"id": w.request.pk},
    "bundles": None,
    "bundle-runs": lambda w: {"id": w.bundle_run.pk},
    "complaints": lambda w: {"id": w.complaint.pk},
    "complaint-extensions": lambda w: {"id": w.extension.pk},
    "letters": lambda w: {"id": w.letter.pk},
    "corrective-actions": lambda w: {"id": w.corrective_action.pk},
    "rule-packs": None,
    "complaint-categories": None,
    "root-causes": None,
    "callbacks": lambda w: {"id": w.callback.pk},
    "follow-up-rules": None,
    "surveys": lambda w: {"id": w.survey.pk},
    "survey-rules": None,
    "campaigns": None,  # bank-wide
    "kpis": None,
    "kpi-definitions": None,
    "evaluation": None,
    "staffing": None,
}

DENIED = {403, 404, 405}
API_DENIED = {401, 403, 404, 405}


def walk_patterns(resolver=None, namespace="", prefix=""):
    """(name, route) of every URL pattern, through every include."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace
            inner = f"{namespace}{ns}:" if ns else namespace
            yield from walk_patterns(pattern, inner, route)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or ''}", route


def api_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method in item:
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method


def api_resource(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/")[0]


# --- The principals and A's world, built once for the module in a transaction rolled back
# at its end (each test runs in a savepoint inside it). -----------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            w = build_world()
            w.letter = Letter.objects.filter(complaint__branch=w.branch_a).first()
            w.complaint_event = Event.objects.filter(branch=w.branch_a).first()
            w.credentials = _principals(w)
            yield w
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _principals(w):
    """label -> how to make its client: a session key (signed in), an API key, or None."""
    users = get_user_model().objects
    # Branch B's manager is given every other branch role at B too: the strongest principal
    # branch B has (see the module docstring).
    strongest = users.get(username=f"{Role.BRANCH_MANAGER.value}.{BRANCH_B}")
    for role in BRANCH_ROLES:
        membership_grant(user=strongest, role=role, branch=w.branch_b)
    usernames = {ALL_ROLES_AT_B: strongest.username}
    usernames["regional_manager@other-region"] = f"regional_manager.{OTHER_REGION}"
    usernames.update(HEAD_OFFICE)
    credentials = {}
    for label, username in usernames.items():
        client = Client()
        client.force_login(users.get(username=username))
        credentials[label] = ("session", client.cookies[settings.SESSION_COOKIE_NAME].value)
    credentials["anonymous"] = ("anonymous", None)
    _client, raw_key = apiclient_create(
        name="branch B system", scopes=list(ApiScope.values), branches=[w.branch_b]
    )
    credentials["api-client@B"] = ("api", raw_key)
    return credentials


@pytest.fixture(scope="module")
def _module_clients(world):
    """One client per principal for the module: a client builds its middleware (WhiteNoise
    scans every static file) on its first request, which cost more than the requests did."""
    made = {}
    for label, (kind, value) in world.credentials.items():
        headers = {"HTTP_AUTHORIZATION": f"Api-Key {value}"} if kind == "api" else {}
        made[label] = Client(raise_request_exception=False, **headers)
    return made


@pytest.fixture
def clients(world, _module_clients):
    """Each test starts from the principal's own cookies only: a POST to sign out in one test
    (rolled back with it) must not sign the principal out of the next."""
    for label, (kind, value) in world.credentials.items():
        client = _module_clients[label]
        client.cookies = SimpleCookie()
        if kind == "session":
            client.cookies[settings.SESSION_COOKIE_NAME] = value
    return _module_clients


def _signed_in(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


CROSS_BRANCH = [ALL_ROLES_AT_B, "regional_manager@other-region"]


# Reading is recorded too (a reveal of a masked value, an export, an article read): those
# events say someone looked, not that something changed.
READ_EVENTS = r"(revealed|viewed|exported|searched)$"


def _events():
    return Event.objects.exclude(type__regex=READ_EVENTS).count()


def _leaks(response) -> bool:
    content = getattr(response, "content", b"") if not response.streaming else b""
    return MARKER.encode() in content


# --- The tests ----------------------------------------------------------------------------


def test_every_url_and_operation_is_in_the_registry():
    known = set(URLS) | set(PUBLIC) | set(PUBLIC_OPEN)
    # The API's routes are covered operation by operation through the schema, below.
    missing = sorted(
        {
            name
            for name, route in walk_patterns()
            if not name.startswith("admin:") and not route.startswith("api/v1/")
        }
        - known
    )
    assert not missing, (
        f"URL patterns not in the access registry: {missing}. Add each to URLS (or PUBLIC, "
        "saying why it is public) in tests/security/test_every_endpoint.py."
    )
    unknown = sorted({api_resource(path) for path, _m in api_operations()} - set(API_RESOURCES))
    assert not unknown, (
        f"API resources not in the access registry: {unknown}. Add each to API_RESOURCES in "
        "tests/security/test_every_endpoint.py."
    )


@pytest.mark.parametrize("name", sorted(URLS))
def test_staff_url(world, clients, name, db):
    from django.urls import reverse

    build = URLS[name]
    url = reverse(name, kwargs=build(world) if build else None)
    problems = []
    for method in ("get", "post"):
        for label, client in clients.items():
            if label == "api-client@B":
                continue
            if name in SAME_FOR_EVERY_USER and label not in {ALL_ROLES_AT_B, "anonymous"}:
                continue
            before = _events()
            response = getattr(client, method)(url)
            status = response.status_code
            changed = _events() != before
            if status >= 500:
                problems.append(f"{method.upper()} {url} as {label}: {status}")
                continue
            if label == "anonymous":
                if name not in OPEN and not (
                    status in {302, 401, 403, 405} and "login" in response.get("Location", "login")
                ):
                    problems.append(f"{method.upper()} {url} anonymous: {status}")
                continue
            if label in HEAD_OFFICE:
                if label == "auditor" and method == "post" and changed and name not in OWN_ACCOUNT:
                    problems.append(f"POST {url} by the auditor recorded an event")
                continue
            if build and name not in BANKWIDE_OBJECTS:
                # A POST refused by its service comes back as a redirect with the error as a
                # message: nothing changed (no event), nothing shown (no body) -- also a refusal.
                refused = DENIED | ({302} if method == "post" else set())
                if status not in refused or changed:
                    problems.append(
                        f"{method.upper()} {url} as {label}: {status}"
                        + (" and recorded an event" if changed else "")
                    )
            elif _leaks(response):
                problems.append(f"{method.upper()} {url} as {label} shows branch A's data")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_page_needs_its_secret(world, clients, name, db):
    from django.urls import reverse

    kwargs = PUBLIC[name](world)
    anonymous = clients["anonymous"]
    real = anonymous.get(reverse(name, kwargs=kwargs))
    assert real.status_code in {200, 302, 405}, (name, real.status_code)
    for key in kwargs:
        forged = {**kwargs, key: secrets.token_urlsafe(16)}
        for method in ("get", "post"):
            response = getattr(anonymous, method)(reverse(name, kwargs=forged))
            assert response.status_code in {404, 405}, (name, key, method, response.status_code)


@pytest.mark.parametrize("name", sorted(PUBLIC_OPEN))
def test_open_public_page_answers_without_personal_data(world, clients, name, db):
    from django.urls import reverse

    build = PUBLIC_OPEN[name]
    response = clients["anonymous"].get(reverse(name, kwargs=build(world) if build else None))
    assert response.status_code == 200
    assert not _leaks(response)


def _api_cases():
    return sorted(set(api_operations()))


@pytest.mark.parametrize(("path", "method"), _api_cases())
def test_api_operation(world, clients, path, method, db):
    build = API_RESOURCES[api_resource(path)]
    params = re.findall(r"{(\w+)}", path)
    values = build(world) if build else {}
    if params and not all(p in values for p in params):
        # A bank-wide resource addressed by its own key: checked on role (403 without it).
        values = dict.fromkeys(params, 0)
    url = re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), path)
    problems = []
    for label, client in clients.items():
        before = _events()
        response = client.generic(method.upper(), url, "{}", content_type="application/json")
        status = response.status_code
        changed = _events() != before
        if status >= 500:
            problems.append(f"{method.upper()} {url} as {label}: {status}")
            continue
        if label == "anonymous":
            if status not in {401, 403}:
                problems.append(f"{method.upper()} {url} anonymous: {status}")
            continue
        if label in HEAD_OFFICE:
            if label == "auditor" and method != "get" and changed:
                problems.append(f"{method.upper()} {url} by the auditor recorded an event")
            continue
        if params and build:
            # DRF validates a body before get_object(): a 400 to an empty body on an object
            # the caller cannot see changes nothing and shows nothing, so it passes too.
            refused = API_DENIED | ({400} if method != "get" else set())
            if status not in refused or changed or _leaks(response):
                problems.append(
                    f"{method.upper()} {url} as {label}: {status}"
                    + (" and recorded an event" if changed else "")
                )
        elif _leaks(response):
            problems.append(f"{method.upper()} {url} as {label} shows branch A's data")
    assert not problems, "\n".join(problems)


ADMIN_CLIENTS = [*CROSS_BRANCH, "anonymous"]


def test_admin_site_is_closed_to_branch_staff(world, clients, db):
    problems = []
    for name, route in walk_patterns():
        if not name.startswith("admin:") or name in {"admin:login", "admin:logout"}:
            continue
        if "<" in route or "(?P" in route or "^" in route:
            continue  # parametrised admin pages sit behind the same admin_view check
        url = "/" + route
        for label in ADMIN_CLIENTS:
            response = clients[label].get(url)
            if response.status_code != 302 or "/admin/login/" not in response["Location"]:
                problems.append(f"GET {url} as {label}: {response.status_code}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("name", "kwargs", "username"),
    [
        (
            "complaints:attachment",
            lambda w: {"complaint_id": w.complaint.pk, "attachment_id": w.complaint_attachment.pk},
            "complaint_officer.sh-lujiazui",
        ),
        (
            "transactions:document",
            lambda w: {"request_id": w.request.pk, "document_id": w.document.pk},
            "teller.sh-lujiazui",
        ),
        ("consultation:kb-attachment", lambda w: {"attachment_id": w.kb_attachment.pk}, "auditor"),
    ],
)
def test_uploads_download_as_attachments_never_as_pages(world, name, kwargs, username, db):
    """A's own staff get the file as a download that no browser sniffs or runs; branch B gets
    404 (test_staff_url)."""
    from django.urls import reverse

    client = _signed_in(get_user_model().objects.get(username=username))
    response = client.get(reverse(name, kwargs=kwargs(world)))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Type"] == "application/pdf"


@pytest.mark.parametrize(
    "name",
    [
        "complaints:complaint_reports:export_csv",
        "complaints:complaint_reports:export_xlsx",
        "events:export",
    ],
)
def test_exports_hold_no_personal_data_even_for_branch_a(world, name, db):
    """The regulatory return and the audit trail are read by people who may not see customers'
    details: even branch A's manager and the auditor get neither names nor full numbers."""
    from django.urls import reverse

    for username in ("branch_manager.sh-lujiazui", "auditor", "hq_manager"):
        response = _signed_in(get_user_model().objects.get(username=username)).get(reverse(name))
        if response.status_code == 403:
            continue  # the role may not export at all
        assert response.status_code == 200, (username, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if name.endswith("xlsx"):  # a zip: read the cells
            sheets = openpyxl.load_workbook(io.BytesIO(body), read_only=True).worksheets
            cells = (
                cell
                for sheet in sheets
                for row in sheet.iter_rows(values_only=True)
                for cell in row
            )
            body = " ".join(str(cell) for cell in cells if cell is not None).encode()
        assert MARKER.encode() not in body, username
        assert world.customer.national_id.encode() not in body, username
        assert world.customer.phone.encode() not in body, username
