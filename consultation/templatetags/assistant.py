"""`{% assistant_panel %}`: the assistant's panel (_panel.html) for those who may ask it at the
page's branch (`branch` in the context), nothing for others."""

from django import template
from django.template.loader import render_to_string

from bankservice.branches.scope import can_act_at, has_perm
from consultation.assistant.services import SUGGEST_PERM

register = template.Library()


@register.simple_tag(takes_context=True)
def assistant_panel(context) -> str:
    request = context["request"]
    branch = context.get("branch")
    if branch is not None:
        allowed = can_act_at(request.user, SUGGEST_PERM, branch.pk)
    else:
        allowed = has_perm(request.user, SUGGEST_PERM)
    if not allowed:
        return ""
    return render_to_string(
        "consultation/assistant/_panel.html", {"branch": branch}, request=request
    )
