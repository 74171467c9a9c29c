"""What the assistant adds at start-up (event labels) and to the demo data (intents, the shipped
examples, a trained model)."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

EXAMPLES_CSV = Path(__file__).resolve().parent.parent / "data" / "assistant_examples.csv"

# The demo's intents are its five queues: code (= the reception service code), Chinese, English,
# and the knowledge-base category (consultation/kb/demo.py) whose articles teach the intent.
# Cards, foreign exchange and mobile banking span several queues, so they teach none.
DEMO_INTENTS = [
    ("cash", "现金及转账", "Cash and transfers", "payments"),
    ("accounts", "开户及银行卡", "Accounts and cards", "accounts"),
    ("loans", "贷款", "Loans and mortgages", "loans"),
    ("wealth", "理财", "Savings and investments", "wealth"),
    ("enquiry", "一般咨询", "General enquiries", None),
]


def ready() -> None:
    from bankservice.events.catalogue import register_event_labels

    register_event_labels(
        {
            "consultation.assistant_examples_imported": _("Assistant examples imported"),
            "consultation.assistant_trained": _("Assistant trained"),
        }
    )


def seed_demo(*, branches) -> dict[str, int]:
    """Intents for the demo queues, the shipped bilingual examples and a model trained on them
    and the demo articles (idempotent: the examples are imported and a model trained only the
    first time)."""
    from consultation.models import AssistantModel, Category, Intent, TrainingExample

    from .services import assistant_train, examples_from_csv, training_examples_import

    categories = {c.code: c for c in Category.objects.all()}
    intents = 0
    for code, zh, en, category in DEMO_INTENTS:
        _intent, created = Intent.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "service_code": code,
                "category": categories.get(category),
            },
        )
        intents += created
    examples = 0
    if not TrainingExample.objects.filter(source=EXAMPLES_CSV.name).exists():
        examples = training_examples_import(
            actor=None,
            examples=examples_from_csv(EXAMPLES_CSV.read_bytes()),
            source=EXAMPLES_CSV.name,
        )
    models = 0
    if not AssistantModel.objects.exists():
        assistant_train(actor=None)
        models = 1
    return {
        "assistant intents": intents,
        "assistant examples": examples,
        "assistant models": models,
    }


def demo_links(*, base_url: str) -> list[str]:
    return []
