"""The shipped packs as installed by the migration, the database's checks, role permissions."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from complaints.models import PackAssignment, PackClock, RulePack
from complaints.packs import PACKS, install_packs
from tests.factories import BranchFactory

pytestmark = pytest.mark.django_db


def test_the_migration_installed_the_three_packs_and_the_bank_default():
    packs = {p.code: p for p in RulePack.objects.select_related("calendar")}
    assert {code: p.calendar.code for code, p in packs.items()} == {
        "cn": "cn",
        "uk": "gb-eaw",
        "us": "us",
    }
    assert [c.code for c in packs["cn"].clocks.all()] == [
        "decision",
        "extension",
        "further_extension",
        "review_request_window",
        "review_decision",
    ]
    default = PackAssignment.objects.get(branch=None, region=None)
    assert default.pack.code == "cn"


def test_the_shipped_clocks_say_what_the_regulations_say():
    cn = RulePack.objects.get(code="cn")
    decision, extension, further = (
        cn.clocks.get(code=c) for c in ("decision", "extension", "further_extension")
    )
    assert (decision.duration, extension.duration, further.duration) == (15, 30, 60)
    assert extension.extends == decision and further.extends == extension
    # Each extension is told to the complainant; only the second needs a higher level's approval.
    assert (extension.requires_approval, extension.notify_complainant) == (False, True)
    assert (further.requires_approval, further.notify_complainant) == (True, True)
    assert decision.warn_fraction == Decimal("0.80")
    uk = RulePack.objects.get(code="uk")
    final = uk.clocks.get(code="final_response")
    assert (final.duration, final.unit, final.letter_wording) == (
        56,
        "calendar_days",
        "fos_referral",
    )
    assert uk.clocks.get(code="summary_resolution").counting == "whole_days"
    # Every shipped clock is a regulator's: cited, never paused.
    assert not PackClock.objects.filter(pausable=True).exists()
    assert not PackClock.objects.filter(citation="").exists()


def test_installing_again_changes_nothing_an_administrator_changed():
    cn = RulePack.objects.get(code="cn")
    cn.clocks.filter(code="decision").update(duration=10)
    assert install_packs() == []
    assert cn.clocks.get(code="decision").duration == 10
    assert RulePack.objects.count() == len(PACKS)
    assert PackAssignment.objects.count() == 1


def valid_clock(**changes) -> dict:
    return {
        "pack": RulePack.objects.get(code="cn"),
        "code": "extra",
        "name_zh": "附加",
        "name_en": "Extra",
        "duration": 5,
        "unit": "calendar_days",
        "citation": "A rule",
        **changes,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"duration": 0},
        {"unit": "fortnights"},
        {"nature": "optional"},
        {"starts_on": "whenever"},
        {"counting": "rounded"},
        {"applies_to": "mortgages"},
        {"letter_wording": "ombudsman"},
        # A regulatory clock never pauses.
        {"pausable": True},
        {"warn_fraction": Decimal("1.00")},
        {"warn_fraction": Decimal("0.00")},
        # Whole days only on day clocks; moving off a non-working day only on calendar days.
        {"unit": "business_hours", "counting": "whole_days"},
        {"unit": "business_days", "non_working_end": "next_working_day"},
        # Approval and notice belong to extensions.
        {"requires_approval": True},
        {"notify_complainant": True},
        # A regulator's clock says where it comes from.
        {"citation": ""},
        # One code per pack.
        {"code": "decision"},
    ],
)
def test_the_database_refuses_an_inconsistent_clock(changes):
    with pytest.raises(IntegrityError), transaction.atomic():
        PackClock.objects.create(**valid_clock(**changes))
    # The same clock without the change is accepted: the change alone was refused.
    PackClock.objects.create(**valid_clock(code="baseline"))


def test_an_internal_clock_may_pause_and_needs_no_citation():
    clock = PackClock.objects.create(**valid_clock(nature="internal", pausable=True, citation=""))
    assert clock.pausable


def test_an_extension_of_another_packs_clock_is_invalid():
    other = RulePack.objects.get(code="uk").clocks.get(code="final_response")
    clock = PackClock(**valid_clock(extends=other))
    with pytest.raises(ValidationError) as error:
        clock.full_clean()
    assert "extends" in error.value.message_dict


def test_the_database_refuses_bad_packs_and_assignments():
    uk = RulePack.objects.get(code="uk")
    branch = BranchFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PackAssignment.objects.create(pack=uk)
    with pytest.raises(IntegrityError), transaction.atomic():
        PackAssignment.objects.create(pack=uk, branch=branch, region=branch.region)
    with pytest.raises(IntegrityError), transaction.atomic():
        RulePack.objects.filter(code="uk").update(jurisdiction="FR")
    with pytest.raises(IntegrityError), transaction.atomic():
        RulePack.objects.filter(code="uk").update(copied_from=F("id"))
    with pytest.raises(IntegrityError), transaction.atomic():
        uk.clocks.filter(code="final_response").update(extends=F("id"))
    PackAssignment.objects.create(pack=uk, branch=branch)
    with pytest.raises(IntegrityError), transaction.atomic():
        PackAssignment.objects.create(pack=uk, branch=branch)


def perms(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


@pytest.mark.parametrize(
    "role", ["complaint_officer", "branch_manager", "regional_manager", "hq_manager", "auditor"]
)
def test_staff_who_handle_or_check_complaints_see_the_packs_but_cannot_change_them(role):
    granted = perms(role)
    assert {"complaints.view_rulepack", "complaints.view_packclock"} <= granted
    pack_models = ("rulepack", "packclock", "packassignment")
    assert not {
        p
        for p in granted
        if p.startswith("complaints.") and p.endswith(pack_models) and ".view_" not in p
    }


def test_administrators_add_and_change_packs_and_tellers_see_no_packs():
    assert {
        "complaints.add_rulepack",
        "complaints.change_rulepack",
        "complaints.change_packclock",
        "complaints.change_packassignment",
    } <= perms("admin")
    assert "complaints.delete_rulepack" not in perms("admin")
    assert not {p for p in perms("teller") if "rulepack" in p or "packclock" in p}
