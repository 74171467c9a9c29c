"""Measure the active assistant model on a held-out labelled CSV."""

from django.core.management.base import BaseCommand, CommandError

from consultation.assistant import engine
from consultation.assistant.services import active_model

from .assistant_train import read_examples


class Command(BaseCommand):
    help = (
        "Evaluate the active assistant model on PATH (CSV with columns text,label, examples the "
        "model was not trained on): accuracy, top-3 accuracy, macro-F1 and the mean latency of "
        "one question in milliseconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A UTF-8 CSV file with columns text,label.")

    def handle(self, *args, path, **options):
        examples = read_examples(path)
        model_id, backend = active_model()
        if backend is None:
            raise CommandError("No assistant model yet: run assistant_train first.")
        self.stdout.write(f"Evaluating model {model_id} on {len(examples)} examples…")
        scores = engine.evaluate(backend, [e.text for e in examples], [e.label for e in examples])
        self.stdout.write(f"accuracy        {scores.accuracy:.3f}")
        self.stdout.write(f"top-3 accuracy  {scores.top3_accuracy:.3f}")
        self.stdout.write(f"macro-F1        {scores.macro_f1:.3f}")
        self.stdout.write(f"mean latency    {scores.mean_latency_ms:.2f} ms per question")
