"""Staff pages for branches: the list and a branch's hours and calendar."""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from bankservice.core.decorators import require_perm

from .models import CalendarDay
from .selectors import branch_list


@require_perm("branches.view_branch")
def branch_index(request):
    return render(request, "branches/list.html", {"branches": branch_list(principal=request.user)})


@require_perm("branches.view_branch")
def branch_detail(request, branch_id: int):
    branch = branch_list(principal=request.user).filter(pk=branch_id).first()
    if branch is None:
        raise Http404
    today = timezone.localdate(timezone=branch.zone)
    upcoming = CalendarDay.objects.filter(calendar=branch.calendar, date__gte=today)[:20]
    return render(request, "branches/detail.html", {"branch": branch, "upcoming": upcoming})
