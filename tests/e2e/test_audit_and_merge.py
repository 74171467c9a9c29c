"""A branch manager merges a duplicate and an auditor reads and exports the audit trail."""

import re
from pathlib import Path

import pytest

from bankservice.branches.models import Role
from bankservice.customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def test_manager_merges_a_duplicate_and_auditor_finds_it(page, sign_in, make_staff, branch_a):
    survivor = CustomerFactory(full_name="李华", home_branch=branch_a, email="")
    duplicate = CustomerFactory(
        full_name="李华", home_branch=branch_a, phone=survivor.phone, email="li@example.cn"
    )
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a)
    sign_in(manager)
    page.goto(f"/customers/{survivor.pk}/")
    candidates = page.locator("section", has_text="Possible duplicates")
    expect(candidates).to_contain_text("李华")
    candidates.get_by_role("button", name="Merge into this record").click()
    expect(page.locator(".messages")).to_contain_text("was merged into this record")
    expect(page.locator("dl.facts")).to_contain_text("li@example.cn")
    expect(page.locator("ol.timeline")).to_contain_text("Duplicate records merged")
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk

    # The auditor filters the trail by type and downloads the CSV.
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "django_language", "value": "en", "url": page.url.split("/customers")[0]}]
    )
    sign_in(make_staff(Role.AUDITOR))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit trail").click()
    page.get_by_label("Type", exact=True).fill("customer.merged")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"type=customer.merged"))
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(manager.get_full_name())
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("id,occurred_at,type")
    assert text.count("customer.merged") == 2
