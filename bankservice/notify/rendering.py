"""Rendering message templates in the customer's language.

Templates live at `notify/<key>/<channel>.<language>.txt` in any app's `templates/` folder,
e.g. `notify/customer.welcome/sms.zh-hans.txt`. An e-mail template's first line is the subject,
the rest the body. A language without its own template falls back to Simplified Chinese.

They are plain text: rendered by a dedicated engine with autoescaping off (HTML escaping would
turn "&" into "&amp;" in an SMS), inside `translation.override(language)` so dates, numbers and
any {% translate %} come out in that language.
"""

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.template import Context, Engine, TemplateDoesNotExist
from django.utils import translation

FALLBACK_LANGUAGE = "zh-hans"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    language: str  # the language actually used (after any fallback)


@cache
def _engine() -> Engine:
    return Engine(
        app_dirs=True,
        autoescape=False,
        builtins=["django.templatetags.i18n", "django.templatetags.l10n"],
        libraries={"humanize": "django.contrib.humanize.templatetags.humanize"},
    )


def template_name(key: str, channel: str, language: str) -> str:
    return f"notify/{key}/{channel}.{language}.txt"


def languages_to_try(language: str) -> list[str]:
    known = {code for code, _name in settings.LANGUAGES}
    first = language if language in known else FALLBACK_LANGUAGE
    return list(dict.fromkeys([first, FALLBACK_LANGUAGE]))


def render_message(*, key: str, channel: str, language: str, context: dict) -> RenderedMessage:
    """Render one message; raises TemplateDoesNotExist if no language has a template."""
    tried = []
    for lang in languages_to_try(language):
        name = template_name(key, channel, lang)
        tried.append(name)
        try:
            template = _engine().get_template(name)
        except TemplateDoesNotExist:
            continue
        with translation.override(lang):
            text = template.render(Context(context, autoescape=False))
        return _split(text, channel=channel, language=lang)
    raise TemplateDoesNotExist(", ".join(tried))


def _split(text: str, *, channel: str, language: str) -> RenderedMessage:
    text = text.strip()
    if channel == "email":
        subject, _newline, body = text.partition("\n")
        # A subject is one line: header injection and wrapped subjects are refused by Django.
        return RenderedMessage(" ".join(subject.split()), body.strip() + "\n", language)
    return RenderedMessage("", text, language)
