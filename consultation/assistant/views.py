"""The assistant on staff pages: the suggestion fragment the panel (_panel.html) asks for with
htmx, or the same as a whole page when the browser runs no script."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from bankservice.branches.models import Branch
from bankservice.branches.scope import can_act_at
from bankservice.core.decorators import require_perm
from bankservice.core.errors import BadInput
from reception.services import ISSUE_PERM

from .services import NOT_YOUR_BRANCH, SUGGEST_PERM, assistant_suggest


def _branch_id(raw: str | None) -> int | None:
    if not raw:
        return None
    if not raw.isdigit():
        raise BadInput(str(NOT_YOUR_BRANCH), field="branch")
    return int(raw)


@require_GET
@require_perm(SUGGEST_PERM)
def suggest(request):
    """Suggest a queue and articles for the question in ?q= at the branch in ?branch=."""
    context = {"question": request.GET.get("q", "")}
    try:
        branch_id = _branch_id(request.GET.get("branch"))
        suggestion = assistant_suggest(
            principal=request.user, text=context["question"], branch_id=branch_id
        )
    except BadInput as exc:
        context["error"] = exc.message
    else:
        service_type = suggestion.service_type
        context.update(
            suggestion=suggestion,
            branch_id=branch_id,
            can_issue=service_type is not None
            and can_act_at(request.user, ISSUE_PERM, service_type.branch_id),
        )
    if request.headers.get("HX-Request"):
        return render(request, "consultation/assistant/_suggestion.html", context)
    # The whole page (no script): the panel again, with the branch it was asked at.
    context["branch"] = Branch.objects.filter(pk=context.get("branch_id")).first()
    return render(request, "consultation/assistant/suggest.html", context)
