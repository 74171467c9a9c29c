from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        from bankservice.sla.policies import register_handler, register_policy

        from . import deadlines

        for policy in deadlines.POLICIES.values():
            register_policy(policy)
        for kind in deadlines.SHIPPED_KINDS:
            register_handler(kind, on_breach=deadlines.on_breach, on_warning=deadlines.on_warning)

    def seed_demo(self, *, branches) -> dict[str, int]:
        """The demo's English branches count on the UK pack (the rest on the bank's CN default)."""
        from .models import PackAssignment, RulePack
        from .services import pack_assign

        uk = RulePack.objects.get(code="uk")
        regions = {b.region for b in branches if b.calendar.code == "gb-eaw"}
        assigned = 0
        for region in regions:
            if not PackAssignment.objects.filter(region=region).exists():
                pack_assign(pack=uk, region=region, actor=None)
                assigned += 1
        return {"rule pack assignments": assigned}
