from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "bankservice.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import security  # noqa: F401  (connects the two-factor sign-in receiver)
