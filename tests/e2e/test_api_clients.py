"""An administrator creates an API client, copies its key (shown once), rotates it with a day
of overlap and revokes it; in English and in Simplified Chinese."""

import pytest

from bankservice.branches.models import Role
from bankservice.core.models import ApiClient
from bankservice.events.models import Event

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_create_rotate_and_revoke_an_api_client(page, sign_in, make_staff, branch_a, language):
    sign_in(make_staff(Role.ADMIN, username="admin-bank"))
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
    expect(page.locator("html")).to_have_attribute("lang", language)

    page.goto("/settings/api-clients/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("[data-action=new]").click()
    page.fill("#id_name", "Core banking")
    page.check("input[name=scopes][value='branches:read']")
    page.check("input[name=scopes][value='customers:read']")
    # Neither all branches nor one chosen: the form says so and keeps the input.
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    expect(page.locator("[data-field=branches] .error")).to_be_visible()
    expect(page.locator("input[name=scopes][value='customers:read']")).to_be_checked()
    page.check(f"input[name=branches][value='{branch_a.pk}']")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    first_key = page.locator("[data-field=raw-key]").input_value()
    client = ApiClient.objects.get(name="Core banking")
    assert client.key_hash == ApiClient.hash_key(first_key)
    assert list(client.branches.all()) == [branch_a]

    # Once copied, the key is gone from every page.
    page.locator("[data-action=done]").click()
    expect(page.locator("[data-field=key-prefix]")).to_have_text(client.key_prefix)
    assert first_key not in page.content()

    # Rotate, the old key working for another day.
    page.select_option("#id_overlap_hours", "24")
    with page.expect_navigation():
        page.locator("[data-form=rotate] button").click()
    second_key = page.locator("[data-field=raw-key]").input_value()
    assert second_key != first_key
    expect(page.locator("[data-field=overlap]")).to_contain_text(client.key_prefix)
    client.refresh_from_db()
    assert client.key_hash == ApiClient.hash_key(second_key)
    assert client.previous_key_expires_at is not None

    # The list shows both prefixes; then revoke.
    page.goto("/settings/api-clients/")
    row = page.locator(f"tr[data-client='{client.pk}']")
    expect(row.locator("[data-field=overlap]")).to_contain_text(client.previous_key_prefix)
    row.get_by_role("link", name="Core banking").click()
    with page.expect_navigation():
        page.locator("[data-form=revoke] button").click()
    expect(page.locator("[data-form=reactivate]")).to_be_visible()
    client.refresh_from_db()
    assert not client.is_active and client.previous_key_prefix == ""
    assert list(Event.objects.filter(subject_id=str(client.pk)).values_list("type", flat=True)) == [
        "apiclient.revoked",
        "apiclient.key_rotated",
        "apiclient.created",
    ]
