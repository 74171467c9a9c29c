"""Sign-in security: TOTP two-factor (django-otp), per-role requirements, ending sessions.

After the password, `user_logged_in` marks the new session "two-factor pending" when the user
has a confirmed TOTP device ("verify") or holds a role that requires one but has none yet
("enrol"); TwoFactorMiddleware then lets that session reach only the verify or enrol page. The
decision is taken once per sign-in, so other requests cost no query; a policy switched on
later applies from each user's next sign-in (or at once, after "sign out everywhere").
"""

from base64 import b32encode

import django_otp
import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.dispatch import receiver
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankservice.branches.models import Role, RoleSecurityPolicy, StaffMembership
from bankservice.branches.scope import ALL_BRANCHES, branch_ids_for
from bankservice.events.catalogue import register_event_labels
from bankservice.events.services import record

PENDING_SESSION_KEY = "two_factor_pending"
VERIFY = "verify"
ENROL = "enrol"
# Managing other users' sign-in (reset a device, end their sessions) needs this permission.
MANAGE_USERS_PERM = "auth.change_user"
POLICY_PERM = "branches.change_rolesecuritypolicy"

register_event_labels(
    {
        "security.two_factor_enrolled": gettext_lazy("Two-factor sign-in set up"),
        "security.two_factor_reset": gettext_lazy("Two-factor sign-in reset"),
        "security.sessions_ended": gettext_lazy("Signed out everywhere"),
        "security.role_policy_changed": gettext_lazy("Role security policy changed"),
    }
)


# --- Selectors.


def two_factor_required(*, user) -> bool:
    """Whether any role the user holds requires two-factor sign-in."""
    return RoleSecurityPolicy.objects.filter(
        require_two_factor=True, role__memberships__user=user
    ).exists()


def confirmed_device(*, user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def role_policies() -> list[tuple[str, str, bool]]:
    """(role, label, require_two_factor) for every staff role, in Role order: one query."""
    required = set(
        RoleSecurityPolicy.objects.filter(require_two_factor=True).values_list(
            "role__name", flat=True
        )
    )
    return [(role.value, role.label, role.value in required) for role in Role]


def users_for_security(*, principal, query: str = "", limit: int = 50):
    """Users whose sign-in `principal` may manage, with their two-factor state: one query.

    A bank-wide holder of auth.change_user sees every user; one limited to some branches sees
    the users holding a role at those branches.
    """
    users = get_user_model().objects.filter(is_active=True)
    ids = branch_ids_for(principal, MANAGE_USERS_PERM)
    if ids is not ALL_BRANCHES:
        users = users.filter(
            Exists(StaffMembership.objects.filter(user=OuterRef("pk"), branch_id__in=ids))
        )
    if query:
        users = users.filter(username__icontains=query)
    return users.annotate(
        has_two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        two_factor_required=Exists(
            RoleSecurityPolicy.objects.filter(
                require_two_factor=True, role__memberships__user=OuterRef("pk")
            )
        ),
    ).order_by("username")[:limit]


def access_user(principal, user_id: int):
    """A user whose sign-in `principal` may manage, or PermissionDenied / DoesNotExist."""
    ids = branch_ids_for(principal, MANAGE_USERS_PERM)
    if ids is not ALL_BRANCHES and not ids:
        raise PermissionDenied
    users = get_user_model().objects.filter(pk=user_id)
    if ids is not ALL_BRANCHES:
        users = users.filter(memberships__branch_id__in=ids).distinct()
    return users.get()


# --- Sign-in.


@receiver(user_logged_in, dispatch_uid="bankservice.core.security.mark_two_factor")
def _mark_two_factor_pending(sender, request, user, **kwargs):
    # One query whatever the answer: does the user have a device, does a role require one?
    User = get_user_model()
    state = (
        User.objects.filter(pk=user.pk)
        .annotate(
            has_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            required=Exists(
                RoleSecurityPolicy.objects.filter(
                    require_two_factor=True, role__memberships__user=OuterRef("pk")
                )
            ),
        )
        .values("has_device", "required")
        .first()
    )
    if request is None or state is None:
        return
    if state["has_device"]:
        request.session[PENDING_SESSION_KEY] = VERIFY
    elif state["required"]:
        request.session[PENDING_SESSION_KEY] = ENROL


def _complete_sign_in(request, device: TOTPDevice) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)
    # A new session key once the second factor is in, as after the password.
    request.session.cycle_key()
    django_otp.login(request, device)


def two_factor_verify(*, request, token: str) -> bool:
    """Check a code from the user's authenticator; on success the sign-in is complete.

    django-otp throttles a device after failed codes and refuses a code already used.
    """
    device = confirmed_device(user=request.user)
    if device is None or not device.verify_token(token):
        return False
    _complete_sign_in(request, device)
    return True


def two_factor_enrolment_device(*, user) -> TOTPDevice:
    """The user's unconfirmed device being set up (one, kept until confirmed or reset)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def two_factor_secret(device: TOTPDevice) -> str:
    """The secret in base32, as authenticator apps take it when typed in."""
    return b32encode(device.bin_key).decode()


def two_factor_qr_svg(device: TOTPDevice) -> SafeString:
    """The otpauth:// URL as an inline SVG QR code: paths only, no text of the user's in it."""
    return mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4))  # noqa: S308


def two_factor_enrol_confirm(*, request, device: TOTPDevice, token: str) -> bool:
    """Confirm the device being set up with a first code; it then guards every sign-in."""
    if device.user_id != request.user.pk or device.confirmed:
        raise ValidationError(_("This set-up is no longer valid; start again."))
    if not device.verify_token(token):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(
            type="security.two_factor_enrolled",
            actor=request.user,
            subject=request.user,
            payload={"user": request.user.get_username()},
        )
    _complete_sign_in(request, device)
    return True


def two_factor_reset(*, actor, user) -> int:
    """Remove a user's authenticator (lost phone); the next sign-in sets one up again if needed."""
    with transaction.atomic():
        deleted, _rows = TOTPDevice.objects.filter(user=user).delete()
        record(
            type="security.two_factor_reset",
            actor=actor,
            subject=user,
            payload={"user": user.get_username()},
        )
    return deleted


def role_policy_set(*, actor, role: str, require_two_factor: bool) -> bool:
    """Require (or stop requiring) two-factor sign-in for a role; True if anything changed."""
    if role not in Role.values:
        raise ValidationError(_("%(role)s is not a staff role."), params={"role": role})
    from django.contrib.auth.models import Group

    with transaction.atomic():
        group = Group.objects.get(name=role)
        policy, _created = RoleSecurityPolicy.objects.select_for_update().get_or_create(role=group)
        if policy.require_two_factor == require_two_factor:
            return False
        policy.require_two_factor = require_two_factor
        policy.save(update_fields=["require_two_factor", "updated_at"])
        record(
            type="security.role_policy_changed",
            actor=actor,
            subject=policy,
            payload={"role": role, "require_two_factor": require_two_factor},
        )
    return True


# --- Ending sessions.


def sessions_end_all(*, actor, user) -> int:
    """End every session of `user` on every device: database rows and their cache entries.

    Sessions are stored signed, so finding a user's means reading the unexpired ones; this is a
    rare, deliberate action and the table holds only live sessions (cleared nightly).
    """
    user_id = str(user.pk)
    keys = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now())
        .only("session_key", "session_data")
        .iterator(chunk_size=500)
        if session.get_decoded().get("_auth_user_id") == user_id
    ]
    with transaction.atomic():
        Session.objects.filter(session_key__in=keys).delete()
        record(
            type="security.sessions_ended",
            actor=actor,
            subject=user,
            payload={"user": user.get_username(), "sessions": len(keys)},
        )
    # After the rows: a request that reads the cache in between finds no row to save back to.
    caches[settings.SESSION_CACHE_ALIAS].delete_many([KEY_PREFIX + key for key in keys])
    return len(keys)
