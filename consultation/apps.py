from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The parts of the stage: consultations, the knowledge base, the assistant.
PARTS = ("consultation.hooks", "consultation.kb.hooks", "consultation.assistant.hooks")


class ConsultationConfig(AppConfig):
    name = "consultation"
    verbose_name = _("Consultation")

    def _parts(self):
        from importlib import import_module

        return [import_module(name) for name in PARTS]

    def ready(self) -> None:
        for part in self._parts():
            part.ready()

    def seed_demo(self, *, branches) -> dict[str, int]:
        counts = {}
        for part in self._parts():
            counts.update(part.seed_demo(branches=branches))
        return counts

    def demo_links(self, *, base_url: str) -> list[str]:
        return [link for part in self._parts() for link in part.demo_links(base_url=base_url)]
