"""Sign-in security pages: two-factor set-up and check, signing out everywhere, and the
administrator's role policy and per-user reset."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from bankservice.branches.scope import has_bankwide_perm, has_perm

from . import security
from .decorators import require_perm
from .security_forms import RolePolicyForm, TokenForm


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


@login_required
def security_home(request):
    context = {
        "device": security.confirmed_device(user=request.user),
        "required": security.two_factor_required(user=request.user),
        "can_manage_users": has_perm(request.user, security.MANAGE_USERS_PERM),
        # The policy is bank-wide: only a bank-wide administrator sets it.
        "can_set_policy": has_bankwide_perm(request.user, security.POLICY_PERM),
    }
    return render(request, "core/security/home.html", context)


@login_required
def two_factor_verify(request):
    if request.session.get(security.PENDING_SESSION_KEY) != security.VERIFY:
        return redirect(_next_url(request))
    form = TokenForm(request.POST or None)
    if form.is_valid():
        if security.two_factor_verify(request=request, token=form.cleaned_data["token"]):
            return redirect(_next_url(request))
        form.add_error(
            "token", _("That code is not valid (or was already used). Try the next one.")
        )
    status = 400 if form.errors else 200
    return render(
        request,
        "core/security/verify.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )


@login_required
def two_factor_enrol(request):
    pending = request.session.get(security.PENDING_SESSION_KEY)
    if pending == security.VERIFY:
        return redirect(reverse("two_factor:verify"))
    if pending is None and security.confirmed_device(user=request.user) is not None:
        messages.info(request, _("Two-factor sign-in is already set up."))
        return redirect("security:home")
    device = security.two_factor_enrolment_device(user=request.user)
    form = TokenForm(request.POST or None)
    if form.is_valid():
        if security.two_factor_enrol_confirm(
            request=request, device=device, token=form.cleaned_data["token"]
        ):
            messages.success(request, _("Two-factor sign-in is set up."))
            return redirect(_next_url(request) if pending else reverse("security:home"))
        form.add_error("token", _("That code is not valid. Check the time on your phone."))
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_svg": security.two_factor_qr_svg(device),
        "secret": security.two_factor_secret(device),
        "required": pending == security.ENROL,
    }
    return render(request, "core/security/enrol.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def sign_out_everywhere(request):
    security.sessions_end_all(actor=request.user, user=request.user)
    logout(request)
    return redirect(f"{reverse('login')}?expired=1")


@require_perm(security.POLICY_PERM)
def role_policy(request):
    if not has_bankwide_perm(request.user, security.POLICY_PERM):
        raise PermissionDenied
    form = RolePolicyForm(request.POST or None, policies=security.role_policies())
    if form.is_valid():
        changed = [
            role
            for role, required in form.required_by_role().items()
            if security.role_policy_set(actor=request.user, role=role, require_two_factor=required)
        ]
        if changed:
            messages.success(request, _("Role security policy saved."))
        return redirect("security:roles")
    return render(request, "core/security/roles.html", {"form": form})


@require_perm(security.MANAGE_USERS_PERM)
def user_list(request):
    query = request.GET.get("q", "").strip()[:150]
    users = security.users_for_security(principal=request.user, query=query)
    return render(request, "core/security/users.html", {"users": users, "query": query})


def _target(request, user_id: int):
    try:
        return security.access_user(request.user, user_id)
    except User.DoesNotExist:
        raise Http404 from None


@require_POST
@require_perm(security.MANAGE_USERS_PERM)
def user_two_factor_reset(request, user_id: int):
    target = _target(request, user_id)
    security.two_factor_reset(actor=request.user, user=target)
    messages.success(
        request,
        _("Two-factor sign-in of %(user)s was reset.") % {"user": target.get_username()},
    )
    return redirect("security:users")


@require_POST
@require_perm(security.MANAGE_USERS_PERM)
def user_sign_out_everywhere(request, user_id: int):
    target = _target(request, user_id)
    ended = security.sessions_end_all(actor=request.user, user=target)
    if target.pk == request.user.pk:
        logout(request)
        return redirect("login")
    messages.success(
        request,
        ngettext(
            "%(user)s was signed out of %(count)s session.",
            "%(user)s was signed out of %(count)s sessions.",
            ended,
        )
        % {"user": target.get_username(), "count": ended},
    )
    return redirect("security:users")
