"""The Simplified Chinese catalogue: complete, consistent with the code, and used by the pages.

The catalogue is locale/zh_Hans/LC_MESSAGES/django.po. To refresh it after changing strings:

    DEBUG=1 .venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var \
        --ignore=tests --ignore=bench --no-obsolete

then translate the new entries (no "fuzzy" flag, no empty msgstr) and run compile_catalogs.
"""

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

REPO = Path(settings.BASE_DIR)
CATALOGUE = REPO / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# The same directories the documented makemessages command ignores.
IGNORED_DIRS = {".venv", "var", "tests", "bench"}
# Files makemessages reads for the "django" domain, plus the catalogue it merges into.
SOURCE_SUFFIXES = {".py", ".html", ".txt", ".po"}
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")

# %(name)s, %(count)d, %s, %d ... (printf style, as gettext and Django use) and {name} (format).
PRINTF = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifeEgGxXoc%]")
BRACES = re.compile(r"(?<!\{)\{[A-Za-z_][A-Za-z0-9_]*\}(?!\})")


def placeholders(text: str) -> set[str]:
    return {m for m in PRINTF.findall(text) if m != "%%"} | set(BRACES.findall(text))


def entry_key(entry: polib.POEntry) -> tuple[str, str, str]:
    return entry.msgctxt or "", entry.msgid, entry.msgid_plural or ""


def describe(entry: polib.POEntry) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:3])
    context = f" (context {entry.msgctxt!r})" if entry.msgctxt else ""
    return f"{entry.msgid!r}{context} [{where}]"


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    assert CATALOGUE.exists(), f"{CATALOGUE} is missing; run makemessages (see module docstring)"
    return polib.pofile(str(CATALOGUE))


def live_entries(po: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in po if not entry.obsolete]


def zh(msgid: str) -> str:
    """The committed translation of `msgid`, so the page tests follow wording changes."""
    entry = polib.pofile(str(CATALOGUE)).find(msgid)
    assert entry is not None and entry.msgstr, f"{msgid!r} is not translated in {CATALOGUE}"
    return entry.msgstr


def test_catalogue_header_declares_chinese_with_one_plural_form(catalogue):
    assert catalogue.metadata.get("Language") == "zh_Hans"
    assert "charset=UTF-8" in catalogue.metadata.get("Content-Type", "")
    plural_forms = catalogue.metadata.get("Plural-Forms", "").replace(" ", "")
    assert plural_forms.startswith("nplurals=1;plural=0"), plural_forms
    assert not catalogue.metadata_is_fuzzy, "the header is still marked fuzzy"


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    entries = live_entries(catalogue)
    assert entries, "the catalogue has no entries"
    fuzzy = [describe(e) for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy entries (check the translation, then drop the flag):\n" + "\n".join(
        fuzzy
    )
    untranslated = []
    for entry in entries:
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            if len(forms) != 1 or not all(s.strip() for s in forms.values()):
                untranslated.append(describe(entry))
        elif not entry.msgstr.strip():
            untranslated.append(describe(entry))
    assert not untranslated, "entries without a translation:\n" + "\n".join(untranslated)


def test_placeholders_match_between_msgid_and_msgstr(catalogue):
    mismatched = []
    for entry in live_entries(catalogue):
        expected = placeholders(entry.msgid)
        if entry.msgid_plural:
            expected |= placeholders(entry.msgid_plural)
            translations = list(entry.msgstr_plural.values())
        else:
            translations = [entry.msgstr]
        for translation in translations:
            got = placeholders(translation)
            # A plural msgid may name the count only in one form; the translation must still
            # use every placeholder of the singular and no unknown one.
            if got != expected and not (entry.msgid_plural and got <= expected):
                mismatched.append(f"{describe(entry)}: {sorted(expected)} != {sorted(got)}")
    assert not mismatched, "placeholders differ:\n" + "\n".join(mismatched)


def test_catalogue_compiles(catalogue, tmp_path):
    # polib is what compile_catalogs uses; msgfmt --check is stricter when it is installed.
    catalogue.save_as_mofile(str(tmp_path / "django.mo"))
    if shutil.which("msgfmt"):
        result = subprocess.run(
            ["msgfmt", "--check", "-o", str(tmp_path / "check.mo"), str(CATALOGUE)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr


def _copy_sources(destination: Path) -> None:
    """Copy what makemessages reads (sources and the locale dir) so it never touches the repo."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set()
        for name in names:
            path = Path(directory) / name
            if path.is_dir():
                if (
                    name.startswith(".")
                    or name == "__pycache__"
                    or (Path(directory) == REPO and name in IGNORED_DIRS)
                ):
                    skipped.add(name)
            elif path.suffix not in SOURCE_SUFFIXES:
                skipped.add(name)
        return skipped

    shutil.copytree(REPO, destination, ignore=ignore)


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in GETTEXT_TOOLS),
    reason="GNU gettext (xgettext, msguniq, msgmerge, msgattrib) is not installed",
)
def test_catalogue_has_every_string_marked_in_the_code(tmp_path, settings, monkeypatch):
    """makemessages on a copy of the project finds no msgid the committed catalogue lacks."""
    before = _fingerprint(CATALOGUE)
    copy = tmp_path / "project"
    _copy_sources(copy)
    # makemessages writes to the locale dirs under the working directory and in LOCALE_PATHS:
    # point both at the copy.
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command(
        "makemessages",
        locale=["zh_Hans"],
        ignore_patterns=sorted(IGNORED_DIRS),
        keep_pot=True,
        no_obsolete=True,
        verbosity=0,
    )
    assert _fingerprint(CATALOGUE) == before, "makemessages modified the real catalogue"

    pot = copy / "locale" / "django.pot"
    assert pot.exists(), "makemessages wrote no template; did it run in the copy?"
    extracted = {entry_key(e): e for e in live_entries(polib.pofile(str(pot)))}
    committed = {entry_key(e) for e in live_entries(polib.pofile(str(CATALOGUE)))}
    missing = [describe(entry) for key, entry in sorted(extracted.items()) if key not in committed]
    assert not missing, (
        "strings marked for translation but not in the catalogue (run makemessages, see the "
        "module docstring, and translate them):\n" + "\n".join(missing)
    )


def _login_page(client, language: str) -> str:
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_login_page_in_chinese(client):
    html = _login_page(client, "zh-hans")
    assert '<html lang="zh-hans">' in html
    # If this fails while the catalogue tests pass, the .mo is stale: run compile_catalogs.
    assert zh("Sign in") in html, "no Chinese: is locale/zh_Hans/LC_MESSAGES/django.mo compiled?"
    assert zh("Branch service desk") in html
    assert "Sign in" not in html
    assert "Branch service desk" not in html


def test_login_page_in_english(client):
    html = _login_page(client, "en")
    assert '<html lang="en">' in html
    assert "Sign in" in html
    assert "Branch service desk" in html
    assert zh("Sign in") not in html


def test_language_cookie_wins_over_the_browser(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Sign in" in _login_page(client, "zh-hans")


@pytest.mark.django_db
def test_api_validation_message_follows_the_language(api, teller, branch_a):
    api.force_authenticate(teller)
    customer = {
        "full_name": "李四",
        "id_type": "resident_id",
        "national_id": "110105194912310021",  # check digit should be X
        "home_branch": branch_a.code,
    }
    answers = {}
    for language in ("zh-hans", "en"):
        response = api.post("/api/v1/customers", customer, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 400, response.content
        answers[language] = response.json()["national_id"]
    message = "This resident ID's check digit is wrong; please check the number."
    assert answers["zh-hans"] == [zh(message)]
    assert answers["en"] == [message]
