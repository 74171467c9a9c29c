"""Staff pages where administrators manage API clients: list, create, change scopes and
branches, rotate the key with an overlap, revoke and reactivate.

A client may reach every branch, so these pages need the permission bank-wide: an administrator
of one branch could otherwise hand out keys for all of them. A new key is rendered in the
answer to the POST that made it (never stored, never in a message) and no cache may keep it.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bankservice.branches.scope import has_bankwide_perm

from .decorators import require_perm
from .errors import Conflict
from .forms_apiclients import ApiClientForm, RotateKeyForm
from .models import ApiClient
from .services import (
    access_apiclient,
    apiclient_create,
    apiclient_reactivate,
    apiclient_revoke,
    apiclient_rotate_key,
    apiclient_update,
)


def _access(client_id: int) -> ApiClient:
    try:
        return access_apiclient(client_id)
    except ApiClient.DoesNotExist:
        raise Http404 from None


def _with_overlap(client: ApiClient, now) -> ApiClient:
    # The pages show the previous key only while it still works.
    client.overlap_until = (
        client.previous_key_expires_at if client.previous_key_valid(now) else None
    )
    return client


def _render_key(request, client: ApiClient, raw_key: str, *, created: bool):
    response = render(
        request,
        "core/apiclients/key.html",
        {"client": _with_overlap(client, timezone.now()), "raw_key": raw_key, "created": created},
        status=201 if created else 200,
    )
    response["Cache-Control"] = "no-store"  # the key must not outlive this page
    return response


@require_perm("core.view_apiclient", bankwide=True)
def apiclient_list(request):
    now = timezone.now()
    clients = [
        _with_overlap(client, now) for client in ApiClient.objects.prefetch_related("branches")
    ]
    return render(
        request,
        "core/apiclients/list.html",
        {
            "clients": clients,
            "can_add": has_bankwide_perm(request.user, "core.add_apiclient"),
        },
    )


@require_perm("core.add_apiclient", bankwide=True)
def apiclient_new(request):
    form = ApiClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client, raw_key = apiclient_create(
                actor=request.user,
                name=data["name"],
                scopes=data["scopes"],
                branches=data["branches"],
                all_branches=data["all_branches"],
            )
        except Conflict as exc:
            form.add_error(exc.field, exc.message)
        else:
            return _render_key(request, client, raw_key, created=True)
    return render(
        request,
        "core/apiclients/form.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


def _render_detail(request, client: ApiClient, *, form=None, rotate_form=None, status=200):
    if form is None:
        form = ApiClientForm(
            editing=True,
            initial={
                "scopes": client.scopes,
                "all_branches": client.all_branches,
                "branches": list(client.branches.all()),
            },
        )
    return render(
        request,
        "core/apiclients/detail.html",
        {
            "client": _with_overlap(client, timezone.now()),
            "form": form,
            "rotate_form": rotate_form or RotateKeyForm(),
        },
        status=status,
    )


@require_perm("core.change_apiclient", bankwide=True)
def apiclient_detail(request, client_id: int):
    """The client's facts and key state; a POST changes its scopes and branches."""
    client = _access(client_id)
    if request.method != "POST":
        return _render_detail(request, client)
    form = ApiClientForm(request.POST, editing=True)
    if not form.is_valid():
        return _render_detail(request, client, form=form, status=400)
    apiclient_update(
        actor=request.user,
        client=client,
        scopes=form.cleaned_data["scopes"],
        branches=form.cleaned_data["branches"],
        all_branches=form.cleaned_data["all_branches"],
    )
    messages.success(request, _("The API client was updated."))
    return redirect("apiclients:detail", client.pk)


@require_POST
@require_perm("core.change_apiclient", bankwide=True)
def apiclient_rotate(request, client_id: int):
    """Issue a new key, shown once; the old one works on for the chosen overlap."""
    client = _access(client_id)
    form = RotateKeyForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, client, rotate_form=form, status=400)
    raw_key = apiclient_rotate_key(actor=request.user, client=client, overlap=form.overlap)
    return _render_key(request, _access(client_id), raw_key, created=False)


@require_POST
@require_perm("core.change_apiclient", bankwide=True)
def apiclient_revoke_view(request, client_id: int):
    """Refuse both keys from now on."""
    client = _access(client_id)
    try:
        apiclient_revoke(actor=request.user, client=client)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The API client was revoked: its keys are refused."))
    return redirect("apiclients:detail", client.pk)


@require_POST
@require_perm("core.change_apiclient", bankwide=True)
def apiclient_reactivate_view(request, client_id: int):
    """Accept the current key again."""
    client = _access(client_id)
    try:
        apiclient_reactivate(actor=request.user, client=client)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The API client was reactivated."))
    return redirect("apiclients:detail", client.pk)
