"""Templates: every registered key renders in both languages; fallback; plain text."""

import pytest
from django.template import Engine, TemplateDoesNotExist

from bankservice.notify import rendering
from bankservice.notify.registry import (
    MESSAGE_TYPES,
    MessageType,
    UnknownMessage,
    message_type,
    register,
)
from bankservice.notify.rendering import languages_to_try, render_message

BASE = {"customer_name": "Chen Yi", "branch_name": "Lujiazui", "reference": "ref-1"}


@pytest.mark.parametrize("key", sorted(MESSAGE_TYPES))
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_registered_message_has_its_templates(key, language):
    kind = MESSAGE_TYPES[key]
    for channel in kind.channels:
        # Its own template, not the fallback.
        rendering._engine().get_template(rendering.template_name(key, channel, language))
        message = render_message(
            key=key, channel=channel, language=language, context={**BASE, **kind.sample}
        )
        assert message.language == language
        assert "Chen Yi" in message.body
        assert "{{" not in message.body and "{%" not in message.body
        if channel == "email":
            assert message.subject and "\n" not in message.subject
        else:
            assert len(message.body) <= 300  # a few SMS segments at most


def test_generic_message_text_is_not_html_escaped():
    message = render_message(
        key="generic.message",
        channel="sms",
        language="en",
        context={**BASE, "text": "Q&A <today> \"2\" 'x'"},
    )
    assert message.body == "Dear Chen Yi, Q&A <today> \"2\" 'x' (Lujiazui)"


def test_languages_fall_back_to_simplified_chinese():
    assert languages_to_try("en") == ["en", "zh-hans"]
    assert languages_to_try("zh-hans") == ["zh-hans"]
    assert languages_to_try("fr") == ["zh-hans"]


def test_missing_english_template_uses_chinese(monkeypatch):
    engine = Engine(
        loaders=[
            (
                "django.template.loaders.locmem.Loader",
                {"notify/only.zh/sms.zh-hans.txt": "{{ customer_name }}您好"},
            )
        ],
        autoescape=False,
    )
    monkeypatch.setattr(rendering, "_engine", lambda: engine)
    message = render_message(key="only.zh", channel="sms", language="en", context=BASE)
    assert (message.body, message.language) == ("Chen Yi您好", "zh-hans")
    with pytest.raises(TemplateDoesNotExist):
        render_message(key="only.zh", channel="email", language="en", context=BASE)


def test_email_first_line_is_the_subject():
    message = render_message(
        key="generic.message", channel="email", language="en", context={**BASE, "text": "Hi"}
    )
    assert message.subject == "A message from Lujiazui"
    assert message.body.startswith("Dear Chen Yi,\n\nHi\n")


def test_registry_is_explicit():
    with pytest.raises(UnknownMessage):
        message_type("nobody.registered.this")
    with pytest.raises(ValueError):
        register(MessageType("customer.welcome", "another meaning"))
    with pytest.raises(ValueError):
        register(MessageType("x.y", "x", channels=("fax",)))
    assert "x.y" not in MESSAGE_TYPES
