"""Copying a pack (the copy is independent), assigning packs, and which pack a branch uses."""

import pytest
from django.apps import apps

from bankservice.branches.models import BusinessCalendar
from bankservice.core.errors import BadInput
from bankservice.events.models import Event
from complaints.clocks import pack_for_branch
from complaints.models import ClockNature, ClockUnit, PackAssignment, PackClock, RulePack
from complaints.services import pack_assign, pack_copy
from tests.factories import BranchFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db


def clock_rows(pack) -> list[tuple]:
    return list(pack.clocks.order_by("id").values_list("code", "duration", "unit", "extends__code"))


def test_a_copy_has_the_same_clocks_and_is_independent_of_the_original():
    uk = RulePack.objects.get(code="uk")
    before = clock_rows(uk)
    admin = UserFactory()

    copy = pack_copy(pack=uk, actor=admin)

    assert (copy.code, copy.copied_from, copy.calendar) == ("uk-copy", uk, uk.calendar)
    assert copy.name_en == "United Kingdom (FCA DISP) (copy)"
    assert clock_rows(copy) == before
    # The copy's extension extends the copy's clock, not the original's.
    extended = copy.clocks.get(code="psd_extended_final_response")
    assert extended.extends.pack == copy
    # Adjusting the copy leaves the original alone.
    copy.clocks.filter(code="final_response").update(duration=28)
    copy.clocks.get(code="acknowledge").delete()
    PackClock.objects.create(
        pack=copy,
        code="internal_first_response",
        name_zh="内部首次响应",
        name_en="Internal first response",
        nature=ClockNature.INTERNAL,
        duration=24,
        unit=ClockUnit.HOURS,
        pausable=True,
    )
    assert clock_rows(uk) == before
    event = Event.objects.get(type="complaints.pack_copied")
    assert event.actor_user == admin
    assert event.payload == {"pack_id": copy.pk, "code": "uk-copy", "copied_from_id": uk.pk}


def test_copies_get_free_codes_and_a_taken_code_is_refused():
    cn = RulePack.objects.get(code="cn")
    assert pack_copy(pack=cn, actor=None).code == "cn-copy"
    assert pack_copy(pack=cn, actor=None).code == "cn-copy-2"
    with pytest.raises(BadInput) as error:
        pack_copy(pack=cn, actor=None, code="uk")
    assert error.value.field == "code"
    assert RulePack.objects.filter(copied_from=cn).count() == 2


def test_pack_for_branch_falls_back_from_branch_to_region_to_the_bank(
    django_assert_num_queries,
):
    cn, uk, us = (RulePack.objects.get(code=c) for c in ("cn", "uk", "us"))
    region = RegionFactory(code="uk")
    branch, neighbour = BranchFactory(region=region), BranchFactory(region=region)
    elsewhere = BranchFactory(region=RegionFactory(code="east"))

    # Nothing of their own: the bank's default, the CN pack, installed by the migration.
    with django_assert_num_queries(1):
        assert pack_for_branch(branch) == cn
    pack_assign(pack=uk, region=region, actor=None)
    pack_assign(pack=us, branch=branch, actor=None)
    with django_assert_num_queries(1):
        assert pack_for_branch(branch) == us  # its own
    assert pack_for_branch(neighbour) == uk  # its region's
    assert pack_for_branch(elsewhere) == cn  # the bank's
    # Retiring the branch's pack falls back to the region's, not to nothing.
    RulePack.objects.filter(pk=us.pk).update(is_active=False)
    assert pack_for_branch(branch) == uk


def test_without_any_assignment_there_is_no_pack():
    PackAssignment.objects.all().delete()
    assert pack_for_branch(BranchFactory()) is None


def test_assigning_replaces_the_levels_pack_and_is_recorded():
    cn, uk = RulePack.objects.get(code="cn"), RulePack.objects.get(code="uk")
    branch = BranchFactory()
    first = pack_assign(pack=uk, branch=branch, actor=None)
    second = pack_assign(pack=cn, branch=branch, actor=None)
    assert first.pk == second.pk and second.pack == cn
    # The bank default is one row too.
    pack_assign(pack=uk, actor=None)
    assert PackAssignment.objects.get(branch=None, region=None).pack == uk
    payloads = [
        e.payload for e in Event.objects.filter(type="complaints.pack_assigned").order_by("id")
    ]
    assert [(p["pack_id"], p["previous_pack_id"], p["branch_id"]) for p in payloads] == [
        (uk.pk, None, branch.pk),
        (cn.pk, uk.pk, branch.pk),
        (uk.pk, cn.pk, None),
    ]


def test_assigning_refuses_both_levels_and_an_inactive_pack():
    uk = RulePack.objects.get(code="uk")
    branch = BranchFactory()
    with pytest.raises(BadInput):
        pack_assign(pack=uk, branch=branch, region=branch.region, actor=None)
    uk.is_active = False
    uk.save()
    with pytest.raises(BadInput) as error:
        pack_assign(pack=uk, branch=branch, actor=None)
    assert error.value.field == "pack"
    assert not PackAssignment.objects.filter(branch=branch).exists()


def test_the_demo_gives_the_english_branches_region_the_uk_pack():
    london = BranchFactory(calendar=BusinessCalendar.objects.get(code="gb-eaw"))
    shanghai = BranchFactory()
    seed = apps.get_app_config("complaints").seed_demo
    assert seed(branches=[london, shanghai]) == {"rule pack assignments": 1, "complaints": 0}
    assert pack_for_branch(london).code == "uk"
    assert pack_for_branch(shanghai).code == "cn"
    assert seed(branches=[london, shanghai]) == {"rule pack assignments": 0, "complaints": 0}
