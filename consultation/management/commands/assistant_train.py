"""Import labelled examples from a CSV and train the assistant (with the published articles)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bankservice.core.errors import BadInput
from consultation.assistant import engine
from consultation.assistant.services import (
    assistant_train,
    examples_from_csv,
    training_examples_import,
)


def read_examples(path: str) -> list:
    """The examples of a labelled CSV, or a CommandError saying what is wrong with the file."""
    file = Path(path)
    try:
        return examples_from_csv(file.read_bytes())
    except FileNotFoundError:
        raise CommandError(f"{file}: no such file.") from None
    except OSError as exc:
        raise CommandError(f"{file}: cannot read it ({exc.strerror}).") from None
    except BadInput as exc:
        raise CommandError(f"{file.name}: {exc.message}") from None


class Command(BaseCommand):
    help = (
        "Import labelled examples from PATH (CSV with columns text,label; a label is a service "
        "code or an intent code; examples already stored are skipped) and train a new assistant "
        "model on all stored examples and the published knowledge articles. Without PATH, "
        "retrain on what is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="A UTF-8 CSV file with columns text,label.")
        parser.add_argument(
            "--backend",
            default=engine.DEFAULT_BACKEND,
            choices=sorted(engine.BACKENDS),
            help="tfidf (default) or embeddings (needs the [embeddings] install extra).",
        )

    def handle(self, *args, path=None, backend, **options):
        if backend not in engine.available_backends():
            raise CommandError(
                f"The {backend} backend is not installed (pip install 'bankservice[embeddings]')."
            )
        if path:
            examples = read_examples(path)
            self.stdout.write(f"Read {len(examples)} examples from {Path(path).name}.")
            new = training_examples_import(actor=None, examples=examples, source=Path(path).name)
            self.stdout.write(f"Stored {new} new examples ({len(examples) - new} already known).")
        try:
            model = assistant_train(actor=None, backend=backend, progress=self.stdout.write)
        except BadInput as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Model {model.pk} ({model.backend}) trained on {model.example_count} examples, "
                f"{model.label_count} labels; it answers from now on."
            )
        )
