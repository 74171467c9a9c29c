"""Writing rule packs: copying a pack to adjust it, and giving a pack to a branch or region."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from bankservice.core.errors import BadInput, Conflict
from bankservice.events.services import record

from .models import PackAssignment, RulePack

COPY_SUFFIX = "-copy"


def pack_copy(
    *, pack: RulePack, actor, code: str | None = None, name_zh: str = "", name_en: str = ""
) -> RulePack:
    """A new, independent pack with the same clocks; the original is left untouched.

    Without a code the copy is named ``<code>-copy`` (``-copy-2`` … if taken). The copy keeps the
    original's active flag and is assigned nowhere: an administrator adjusts it, then assigns it.
    """
    with transaction.atomic():
        code = code or _free_copy_code(pack.code)
        if RulePack.objects.filter(code=code).exists():
            raise BadInput(_("A rule pack with this code exists already."), field="code")
        copy = RulePack.objects.create(
            code=code,
            name_zh=name_zh or f"{pack.name_zh}（副本）",
            name_en=name_en or f"{pack.name_en} (copy)",
            jurisdiction=pack.jurisdiction,
            calendar_id=pack.calendar_id,
            copied_from=pack,
            is_active=pack.is_active,
        )
        # Clocks in id order, so a clock's extension target is copied before it.
        copies = {}
        for clock in pack.clocks.order_by("id"):
            original_id = clock.pk
            clock.pk = None
            clock._state.adding = True
            clock.pack = copy
            clock.extends = copies.get(clock.extends_id)
            clock.save(force_insert=True)
            copies[original_id] = clock
        record(
            type="complaints.pack_copied",
            actor=actor,
            subject=copy,
            payload={"pack_id": copy.pk, "code": copy.code, "copied_from_id": pack.pk},
        )
    return copy


def pack_assign(*, pack: RulePack, actor, branch=None, region=None) -> PackAssignment:
    """Give ``pack`` to a branch, a region, or (neither) the whole bank, replacing the former one."""
    if branch is not None and region is not None:
        raise BadInput(_("Assign a pack to a branch or a region, not both."), field="region")
    if not pack.is_active:
        raise BadInput(_("This rule pack is not active."), field="pack")
    with transaction.atomic():
        # The row is the level's one slot; locking it serialises two administrators.
        assignment = (
            PackAssignment.objects.select_for_update().filter(branch=branch, region=region).first()
        )
        previous_id = assignment.pack_id if assignment else None
        try:
            with transaction.atomic():
                if assignment is None:
                    assignment = PackAssignment.objects.create(
                        pack=pack, branch=branch, region=region
                    )
                else:
                    assignment.pack = pack
                    assignment.save(update_fields=["pack"])
        except IntegrityError:
            # Another administrator assigned this level at the same moment.
            raise Conflict(_("This level was assigned a pack meanwhile; try again.")) from None
        record(
            type="complaints.pack_assigned",
            actor=actor,
            branch=branch,
            subject=assignment,
            payload={
                "pack_id": pack.pk,
                "previous_pack_id": previous_id,
                "branch_id": branch.pk if branch else None,
                "region_id": region.pk if region else None,
            },
        )
    return assignment


def _free_copy_code(code: str) -> str:
    base = f"{code[: RulePack._meta.get_field('code').max_length - 8]}{COPY_SUFFIX}"
    taken = set(RulePack.objects.filter(code__startswith=base).values_list("code", flat=True))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
