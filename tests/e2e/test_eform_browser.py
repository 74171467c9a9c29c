"""Chromium itself judges e-form values as the server does (tests/transactions/eform_cases.py),
and static/js/eform.js shows a conditional field only when its condition holds."""

from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string

from tests.transactions.eform_cases import AGREE, SERVER_ONLY, sink_version
from transactions import demo, eforms
from transactions.models import RequestTypeVersion

EFORM_JS = Path(settings.BASE_DIR) / "static" / "js" / "eform.js"

# Typed like a person would (the browser then enforces maxlength and minlength); number, date
# and choice inputs are set as a value instead, which the browser sanitises to "" if invalid.
TYPED = {"text", "email", "tel"}
VERDICT = """(element, [value, typed]) => {
  if (element.type === "checkbox") { element.checked = value; return element.checkValidity(); }
  if (!typed) element.value = value;
  return element.value === value && element.checkValidity();
}"""


def form_page(browser, version, data=None):
    page = browser.new_page()
    html = render_to_string("transactions/_eform.html", {"sections": eforms.layout(version, data)})
    page.set_content(f"<!doctype html><html><body><form>{html}</form></body></html>")
    return page


def browser_accepts(page, name, value) -> bool:
    element = page.locator(f'[name="{name}.amount"], [name="{name}"]').first
    typed = element.evaluate("e => e.type") in TYPED
    if typed:
        element.fill(value)
    return element.evaluate(VERDICT, [value, typed])


@pytest.fixture
def sink_page(browser):
    page = form_page(browser, sink_version())
    yield page
    page.close()


def test_chromium_accepts_what_the_server_accepts_and_refuses_what_it_refuses(sink_page):
    verdicts = {
        (name, str(value)): browser_accepts(sink_page, name, value) for name, value, _ in AGREE
    }
    expected = {(name, str(value)): ok for name, value, ok in AGREE}
    assert verdicts == expected


def test_check_digits_are_left_to_the_server(sink_page):
    for name, value in SERVER_ONLY:
        assert browser_accepts(sink_page, name, value), (name, value)


def test_a_conditional_field_follows_its_condition(browser):
    spec = demo.OPEN_ACCOUNT
    version = RequestTypeVersion(
        number=1,
        **{k: spec[k] for k in ("form_schema", "ui_schema", "documents", "approval_rules")},
    )
    page = form_page(browser, version, {"purpose": "salary"})
    page.add_script_tag(content=EFORM_JS.read_text())
    other = page.locator('[name="purpose_other"]')
    wrapper = page.locator('[data-field="purpose_other"]')
    assert wrapper.is_hidden() and other.is_disabled()
    page.select_option('[name="purpose"]', "other")
    assert wrapper.is_visible() and other.is_enabled()
    # Shown, it is required: the browser refuses the form until it is filled.
    assert not other.evaluate("e => e.checkValidity()")
    page.select_option('[name="purpose"]', "savings")
    assert wrapper.is_hidden() and other.is_disabled()
    page.close()


def test_the_browser_reads_every_pattern_the_demo_forms_and_formats_use(browser):
    # The browser checks e-mail addresses and dates by their input type: no pattern attribute.
    patterns = {
        fmt.pattern
        for fmt in eforms.FORMATS.values()
        if fmt.name not in eforms.TYPE_CHECKED_FORMATS
    }
    for spec in demo.REQUEST_TYPES:
        version = RequestTypeVersion(
            number=1,
            **{k: spec[k] for k in ("form_schema", "ui_schema", "documents", "approval_rules")},
        )
        for section in eforms.layout(version):
            patterns.update(f.attrs["pattern"] for f in section.fields if "pattern" in f.attrs)
    page = browser.new_page()
    # What the browser does with a pattern attribute: compile ^(?:pattern)$ with the "v" flag.
    unreadable = page.evaluate(
        """patterns => patterns.filter(p => {
             try { new RegExp(`^(?:${p})$`, "v"); return false; } catch { return true; }
           })""",
        sorted(patterns),
    )
    page.close()
    assert unreadable == []
