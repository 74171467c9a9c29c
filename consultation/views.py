"""Staff consultation pages: my open consultations and the branch's list, a new consultation by
phone, chat or video, "Start consultation" from the counter console, and the consultation screen
(edit, search the knowledge base, attach articles, the assistant, close with an outcome).

Pages read through the scoped selectors (outside the user's branches: 404); every change is a
POST calling one service, then a redirect; a refusal comes back as a form error or a message.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from bankservice.branches.models import Branch
from bankservice.branches.scope import can_act_at, has_perm
from bankservice.core.decorators import require_perm
from bankservice.core.errors import DomainError
from bankservice.customers.services import contact_shown
from consultation.kb.search import search_articles
from consultation.kb.services import search_log_record

from .filters import ConsultationFilter
from .forms import CloseForm, ConsultationForm, StartForm
from .handoffs import handoff_retry
from .models import Article, ConsultationStatus, HandoffStatus
from .selectors import (
    consultation_advisors,
    consultation_detail_list,
    consultation_history,
    consultation_journey,
    consultation_list,
    my_open_consultations,
)
from .services import (
    CHANGE_PERM,
    START_PERM,
    VIEW_PERM,
    consultation_close,
    consultation_start,
    consultation_update,
    may_handle,
)

PAGE_SIZE = 25
SEARCH_LIMIT = 8
ASSISTANT_PANEL = "consultation/assistant/_panel.html"


def access_consultation(user, consultation_id: int, perm: str = VIEW_PERM):
    """A consultation of a branch where `user` holds `perm`; otherwise 404.

    Not locked here: every service locks the row and checks its status and holder again.
    """
    consultation = (
        consultation_detail_list(principal=user, perm=perm).filter(pk=consultation_id).first()
    )
    if consultation is None:
        raise Http404
    return consultation


def _with_contact(request, consultations) -> list:
    rows = list(consultations)
    for row in rows:
        row.who = contact_shown(request, row)
    return rows


@require_GET
@require_perm(VIEW_PERM)
def consultation_list_view(request):
    """My open consultations, and the consultations of my branches (filtered, paginated)."""
    user = request.user
    visible = consultation_list(principal=user)
    filterset = ConsultationFilter(request.GET, queryset=visible)
    rows = filterset.qs if filterset.is_valid() else visible.none()
    page = Paginator(rows.order_by("-started_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = _with_contact(request, page.object_list)
    return render(
        request,
        "consultation/list.html",
        {
            "filter": filterset,
            "page": page,
            "mine": _with_contact(request, my_open_consultations(principal=user)),
            "advisors": consultation_advisors(principal=user),
            "can_start": has_perm(user, START_PERM),
        },
    )


def _start_branches(user):
    return Branch.objects.visible_to(user, START_PERM).filter(is_active=True).order_by("name")


@require_http_methods(["GET", "POST"])
@require_perm(START_PERM)
def consultation_new(request):
    """Start a consultation by phone, chat or video."""
    form = StartForm(
        request.POST or None,
        branches=_start_branches(request.user),
        principal=request.user,
        initial={"customer_query": request.GET.get("customer_query", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consultation = consultation_start(
                actor=request.user,
                channel=data["channel"],
                branch=data["branch"],
                customer=data["customer"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                contact_email=data["contact_email"],
                question=data["question"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Consultation started."))
            return redirect("consultation:detail", consultation.pk)
    return render(request, "consultation/new.html", {"form": form})


@require_POST
@require_perm(START_PERM)
def consultation_start_from_ticket(request, ticket_id: int):
    """ "Start consultation" on the counter console: the ticket being served becomes one (an
    open one of mine for the ticket is reopened instead)."""
    open_one = my_open_consultations(principal=request.user).filter(ticket_id=ticket_id).first()
    if open_one is not None:
        return redirect("consultation:detail", open_one.pk)
    try:
        consultation = consultation_start(actor=request.user, ticket=ticket_id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("reception:console")
    messages.success(request, _("Consultation started."))
    return redirect("consultation:detail", consultation.pk)


def _assistant_panel() -> bool:
    # The assistant's panel is another part's template; the page works without it.
    try:
        get_template(ASSISTANT_PANEL)
    except TemplateDoesNotExist:
        return False
    return True


def _editable(user, consultation) -> bool:
    return consultation.status == ConsultationStatus.OPEN and (
        can_act_at(user, CHANGE_PERM, consultation.branch_id) and may_handle(user, consultation)
    )


def _search(request, consultation, *, editable: bool) -> dict:
    """The knowledge-base search of the screen (`?q=`), for whoever may attach articles."""
    query = request.GET.get("q", "").strip()[:200]
    hits = []
    if query and editable:
        hits = search_articles(query, limit=SEARCH_LIMIT)
        # Counted with the knowledge base's searches: unanswered questions show its gaps.
        search_log_record(query=query, user=request.user, hits=hits, source="consult")
    return {
        "consultation": consultation,
        "query": query,
        "hits": hits,
        "attached": {a.pk for a in consultation.articles.all()},
    }


def _render_detail(request, consultation, *, form=None, close_form=None, status=200):
    user = request.user
    editable = _editable(user, consultation)
    context = {
        **_search(request, consultation, editable=editable),
        "who": contact_shown(request, consultation),
        "journey": consultation_journey(principal=user, consultation=consultation),
        "history": consultation_history(consultation=consultation),
        "editable": editable,
        "assistant_panel": editable and _assistant_panel(),
        "may_retry": consultation.handoff_status == HandoffStatus.FAILED
        and can_act_at(user, CHANGE_PERM, consultation.branch_id)
        and may_handle(user, consultation),
    }
    if editable:
        context["form"] = form or ConsultationForm(
            initial={
                "question": consultation.question,
                "notes": consultation.notes,
                "topics": list(consultation.topics.all()),
                "products": list(consultation.products.all()),
                "version": consultation.version,
            }
        )
        context["close_form"] = close_form or CloseForm(consultation=consultation)
    return render(request, "consultation/detail.html", context, status=status)


@require_GET
@require_perm(VIEW_PERM)
@vary_on_headers("HX-Request")
def consultation_detail(request, consultation_id: int):
    """The consultation screen; `?q=` searches the knowledge base to attach articles (htmx asks
    for the results alone)."""
    consultation = access_consultation(request.user, consultation_id)
    if request.headers.get("HX-Request"):
        editable = _editable(request.user, consultation)
        return render(
            request, "consultation/_search.html", _search(request, consultation, editable=editable)
        )
    return _render_detail(request, consultation)


def _back(consultation):
    return redirect("consultation:detail", consultation.pk)


@require_POST
@require_perm(CHANGE_PERM)
def consultation_edit(request, consultation_id: int):
    consultation = access_consultation(request.user, consultation_id, CHANGE_PERM)
    form = ConsultationForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            consultation_update(
                actor=request.user,
                consultation=consultation,
                data=data,
                version=data.pop("version"),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Saved."))
            return _back(consultation)
    return _render_detail(request, consultation, form=form, status=400)


@require_POST
@require_perm(CHANGE_PERM)
def consultation_article(request, consultation_id: int):
    """Attach an article found in the search, or take one off (`remove`)."""
    consultation = access_consultation(request.user, consultation_id, CHANGE_PERM)
    raw = request.POST.get("article", "")
    article = Article.objects.filter(pk=raw).first() if raw.isdigit() else None
    if article is None:
        messages.error(request, _("No such article."))
        return _back(consultation)
    articles = [a for a in consultation.articles.all() if a.pk != article.pk]
    if "remove" not in request.POST:
        articles.append(article)
    try:
        consultation_update(
            actor=request.user, consultation=consultation, data={"articles": articles}
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Article removed.") if "remove" in request.POST else _("Article attached.")
        )
    return _back(consultation)


@require_POST
@require_perm(CHANGE_PERM)
def consultation_close_view(request, consultation_id: int):
    consultation = access_consultation(request.user, consultation_id, CHANGE_PERM)
    form = CloseForm(request.POST, consultation=consultation)
    if form.is_valid():
        data = form.cleaned_data
        try:
            closed = consultation_close(
                actor=request.user,
                consultation=consultation,
                outcome=data["outcome"],
                outcome_note=data["outcome_note"],
                referred_to=data["referred_to"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Consultation closed: %(outcome)s.") % {"outcome": closed.get_outcome_display()},
            )
            return _back(consultation)
    return _render_detail(request, consultation, close_form=form, status=400)


@require_POST
@require_perm(CHANGE_PERM)
def consultation_handoff_retry(request, consultation_id: int):
    consultation = access_consultation(request.user, consultation_id, CHANGE_PERM)
    try:
        retried = handoff_retry(actor=request.user, consultation=consultation)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(
            request, _("Hand-off: %(status)s.") % {"status": retried.get_handoff_status_display()}
        )
    return _back(consultation)
