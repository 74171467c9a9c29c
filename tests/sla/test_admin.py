"""Deadlines in the admin: a read-only list with filters, extensions inline; who may see them."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group

from bankservice.sla.policies import DeadlinePolicy, register_policy
from bankservice.sla.services import deadline_extend, deadline_start
from tests.factories import UserFactory

from .conftest import SHANGHAI, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def deadline(subject, cn_branch):
    register_policy(DeadlinePolicy(name="test.reply", business_hours=8))
    deadline = deadline_start(
        subject=subject,
        kind="test.reply",
        policy="test.reply",
        branch=cn_branch,
        started_at=at(SHANGHAI, 2026, 3, 9, 9),
    )
    return deadline_extend(
        deadline=deadline, by=dt.timedelta(hours=4), reason="Waiting for the archive", actor=None
    )


@pytest.fixture
def superuser(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_the_list_filters_by_state_kind_and_branch(client, superuser, deadline, cn_branch):
    url = "/admin/sla/deadline/"
    response = client.get(url)
    assert response.status_code == 200
    assert b"test.reply" in response.content
    assert b"/admin/sla/deadline/add/" not in response.content  # no "add" button
    for query, shown in (
        ("?state__exact=open", 1),
        ("?state__exact=breached", 0),
        ("?kind=test.reply", 1),
        ("?kind=other.kind", 0),
        (f"?branch__id__exact={cn_branch.pk}", 1),
        ("?handler=failing", 0),
    ):
        response = client.get(url + query)
        assert response.status_code == 200
        assert response.context["cl"].result_count == shown, query


def test_the_detail_is_read_only_with_its_extensions(client, superuser, deadline):
    response = client.get(f"/admin/sla/deadline/{deadline.pk}/change/")
    assert response.status_code == 200
    assert "Waiting for the archive" in response.content.decode()
    assert b'name="_save"' not in response.content
    assert client.get("/admin/sla/deadline/add/").status_code == 403
    assert client.post(f"/admin/sla/deadline/{deadline.pk}/delete/").status_code == 403


def test_managers_and_auditors_may_view_deadlines_tellers_may_not():
    def perms(role):
        return set(
            Group.objects.get(name=role)
            .permissions.filter(content_type__app_label="sla")
            .values_list("codename", flat=True)
        )

    for role in ("branch_manager", "regional_manager", "hq_manager", "auditor", "admin"):
        assert perms(role) == {"view_deadline", "view_deadlineextension"}
    assert perms("teller") == set()
