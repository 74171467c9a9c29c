"""Headless Chromium (Debian's, driven by Playwright's sync API) against pytest-django's live server.

Playwright cannot download its own browsers here, so we launch /usr/bin/chromium; every test of
this folder is skipped, with the reason, when it or Playwright is missing.

The live server runs in another thread, so these tests use transactional databases. A
transactional test ends with a flush, which would also delete the rows that data migrations
created (the staff role groups); the `page` fixture therefore asks for serialized rollback, which
restores the migrated data before each test.

Playwright's sync API runs an asyncio event loop in the test thread for as long as it is started.
Two things follow, both handled in `browser` and both confined to this folder by its "package"
scope (the e2e tests are transactional, so pytest-django runs them one after another):

* Django refuses ORM calls made while a loop runs in the thread: DJANGO_ALLOW_ASYNC_UNSAFE is set
  while the browser is up. The test thread makes only plain synchronous ORM calls.
* Django's connection handler keeps its connections per thread *and*, while a loop runs, per
  context: the test thread gets a second set of connection objects, without the data serialized
  for rollbacks. `browser` hands that data over, and closes the second set at the end. A
  session-wide loop would leave every later test in the session on those connections.
"""

import datetime as dt
import tempfile
from pathlib import Path

import pytest

from bankservice.branches.models import OpeningHours, Role
from reception.models import Device, DeviceKind
from tests.factories import BranchFactory, CalendarFactory
from tests.reception.factories import CounterFactory, ServiceTypeFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Generous for a loaded 2-core machine, short enough that a missing element fails fast.
TIMEOUT_MS = 15_000
PASSWORD = "correct horse battery staple"  # what tests.factories.UserFactory sets


@pytest.fixture(scope="package")
def browser(django_db_setup):
    """One headless Chromium for the tests of this folder."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"end-to-end tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    sync_api.expect.set_options(timeout=TIMEOUT_MS)
    from django.db import connections

    serialized = {
        conn.alias: conn._test_serialized_contents
        for conn in connections.all()
        if hasattr(conn, "_test_serialized_contents")
    }
    with pytest.MonkeyPatch.context() as patch, sync_api.sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        # From here on `connections` hands out the loop-context connection objects.
        for alias, contents in serialized.items():
            connections[alias]._test_serialized_contents = contents
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()


@pytest.fixture
def page(browser, live_server, django_db_serialized_rollback, request):
    """A fresh browser context (no cookies) on the live server, deliberately in English.

    The site's default language is Simplified Chinese; the `django_language` cookie and the
    Accept-Language header both ask for English, so a test starts in English and can switch.
    When the test fails, a screenshot is kept in the temp dir (/tmp/e2e-failed-<test>.png).
    """
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-US",
        extra_http_headers={"Accept-Language": "en"},
        viewport={"width": 1280, "height": 900},
    )
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            shot = Path(tempfile.gettempdir()) / f"e2e-failed-{request.node.name}.png"
            page.screenshot(path=shot, full_page=True)
        context.close()


@pytest.fixture
def sign_in(page):
    """sign_in(user, password=PASSWORD): log in through the login form, as a person would."""

    def sign_in(user, password: str = PASSWORD) -> None:
        page.goto("/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()

    return sign_in


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Lets the `page` fixture see whether the test body failed (for the failure screenshot).
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


# --- Reception: an always-open branch (the live server runs at the real time of day).


@pytest.fixture(autouse=True)
def _private_file_cache(settings, tmp_path):
    # Without Redis the cache is a directory that every process of this checkout shares
    # (var/cache): another test run's cache.clear() there would empty it in the middle of a test.
    default = settings.CACHES["default"]
    if default["BACKEND"].endswith(".FileBasedCache"):
        settings.CACHES = {**settings.CACHES, "default": {**default, "LOCATION": str(tmp_path)}}


@pytest.fixture
def always_open_branch(region):
    branch = BranchFactory(
        code="h24",
        name="Lujiazui Branch",
        region=region,
        calendar=CalendarFactory(code="always-open", name="Every day", weekend_days=[]),
    )
    OpeningHours.objects.filter(branch=branch).delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(
            branch=branch,
            weekday=weekday,
            opens_at=dt.time(0, 0),
            closes_at=dt.time(23, 59, 59, 999999),
        )
        for weekday in range(1, 8)
    )
    return branch


@pytest.fixture
def reception(always_open_branch, make_staff):
    branch = always_open_branch
    cash = ServiceTypeFactory(
        branch=branch, code="cash", name_en="Cash and payments", name_zh="现金业务", prefix="A"
    )
    ServiceTypeFactory(
        branch=branch,
        code="accounts",
        name_en="Accounts and cards",
        name_zh="开户与银行卡",
        prefix="B",
        sort_order=1,
    )
    ServiceTypeFactory(
        branch=branch,
        code="loans",
        name_en="Loans and mortgages",
        name_zh="贷款业务",
        prefix="C",
        sort_order=2,
    )
    ServiceTypeFactory(
        branch=branch,
        code="wealth",
        name_en="Wealth management",
        name_zh="理财业务",
        prefix="V",
        sort_order=3,
    )
    return {
        "branch": branch,
        "cash": cash,
        "counter": CounterFactory(branch=branch, number=3, services=[cash]),
        "teller": make_staff(Role.TELLER, branch=branch, username="teller-h24"),
        "kiosk": Device.objects.create(branch=branch, kind=DeviceKind.KIOSK, name="Entrance"),
        "display": Device.objects.create(branch=branch, kind=DeviceKind.DISPLAY, name="Lobby"),
    }
