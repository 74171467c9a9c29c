"""Demo care data: a draft birthday campaign at the Lujiazui branch, made through the service,
ready for a manager to try the dry run and schedule it.

Callbacks and surveys are not made here: they are about customers, and demo customers bypass
the services on purpose (no events about people who do not exist; tests/core/test_seed_demo.py).
They appear as the demo is used: a ticket completed or a request executed for a registered
customer triggers the follow-up and survey rules within a minute.

Called by `manage.py seed_demo` through CareConfig.seed_demo; idempotent.
"""

from django.contrib.auth import get_user_model

from .campaigns import campaign_create
from .models import Campaign, CampaignChannel, CampaignKind

BRANCH = "sh-lujiazui"
NAME = "十二月生日祝福 December birthdays"


def seed_demo(*, branches) -> dict[str, int]:
    branch = next((b for b in branches if b.code == BRANCH), None)
    manager = get_user_model().objects.filter(username=f"branch_manager.{BRANCH}").first()
    if branch is None or manager is None or Campaign.objects.filter(name=NAME).exists():
        return {}
    campaign_create(
        actor=manager,
        branches=[branch],
        name=NAME,
        kind=CampaignKind.MESSAGE,
        purpose="生日当月问候客户。Greet customers in their birthday month.",
        birthday_this_month=True,
        channel=CampaignChannel.PREFERRED,
        message_text="祝您生日快乐！陆家嘴支行全体员工敬上。Happy birthday from all of us at Lujiazui.",
    )
    return {"campaigns": 1}
