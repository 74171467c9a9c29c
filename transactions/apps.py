from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransactionsConfig(AppConfig):
    name = "transactions"
    verbose_name = _("Transaction processing")

    def ready(self) -> None:
        from .wiring import ready

        ready()

    def seed_demo(self, *, branches) -> dict[str, int]:
        from .demo import seed_demo

        return seed_demo(branches=branches)

    def demo_links(self, *, base_url: str) -> list[str]:
        from .demo import demo_links

        return demo_links(base_url=base_url)
