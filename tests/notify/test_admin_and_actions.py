"""Admin screens (read only, retry action) and the retry / cancel services."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from bankservice.core.errors import Conflict
from bankservice.events.models import Event
from bankservice.notify.models import BranchQuietHours, Notification, NotificationStatus
from bankservice.notify.selectors import notifications_for_customer, notifications_needing_attention
from bankservice.notify.services import (
    notification_cancel,
    notification_retry,
    notification_send,
)
from bankservice.notify.tasks import send_notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(sms_gateway, customer):
    sms_gateway.script = [(400, {"error": "invalid"})]
    n = notification_send(
        customer=customer, channel="sms", template="generic.message", context={"text": "Hi"}
    )
    send_notification(n.pk)
    n.refresh_from_db()
    assert n.status == NotificationStatus.FAILED
    return n


def test_admin_pages_are_read_only_and_show_attempts(admin_client, failed):
    changelist = reverse("admin:notify_notification_changelist")
    response = admin_client.get(changelist, {"status__exact": "failed"})
    assert response.status_code == 200
    assert "+86139****5678" in response.content.decode()
    response = admin_client.get(reverse("admin:notify_notification_change", args=[failed.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "invalid" in page  # the attempt's error, inline
    assert "13912345678" not in page  # the real number is nowhere
    assert 'name="_save"' not in page
    assert admin_client.get(reverse("admin:notify_notification_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:notify_notification_delete", args=[failed.pk])).status_code
        == 403
    )


def test_admin_retry_action_requeues_failed_ones(
    admin_client, failed, sms_gateway, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            reverse("admin:notify_notification_changelist"),
            {"action": "retry", "_selected_action": [failed.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert len(callbacks) == 1
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (NotificationStatus.PENDING, 0)
    assert send_notification(failed.pk) == "sent"
    assert len(sms_gateway.requests) == 2
    assert Event.objects.filter(type="notification.retried").count() == 1


def test_retry_action_needs_the_permission(client, make_staff, branch_a, failed):
    manager = make_staff("branch_manager", branch=branch_a)
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    response = client.get(reverse("admin:notify_notification_changelist"))
    assert response.status_code == 200
    assert 'value="retry"' not in response.content.decode()
    client.post(
        reverse("admin:notify_notification_changelist"),
        {"action": "retry", "_selected_action": [failed.pk]},
    )
    failed.refresh_from_db()
    assert failed.status == NotificationStatus.FAILED


def test_retry_only_from_failed_or_unknown(customer, failed, make_staff, branch_a, branch_b):
    admin = make_staff("admin")
    pending = notification_send(customer=customer, channel="sms", template="customer.welcome")
    with pytest.raises(Conflict):
        notification_retry(notification=pending, actor=admin)
    outsider = make_staff("branch_manager", branch=branch_b)
    with pytest.raises(PermissionDenied):
        notification_retry(notification=failed, actor=outsider)
    notification_retry(notification=failed, actor=admin)
    with pytest.raises(Conflict):
        notification_retry(notification=failed, actor=admin)


def test_cancel_a_pending_notification(customer, sms_gateway):
    n = notification_send(customer=customer, channel="sms", template="customer.welcome")
    notification_cancel(notification=n, actor=None, reason="appointment cancelled")
    assert send_notification(n.pk) == "not_claimed"
    assert sms_gateway.requests == []
    with pytest.raises(Conflict):
        notification_cancel(notification=n, actor=None)
    event = Event.objects.get(type="notification.cancelled")
    assert event.payload["reason"] == "appointment cancelled"


def test_selectors_are_scoped(customer, failed, make_staff, branch_a, branch_b):
    here = make_staff("branch_manager", branch=branch_a)
    there = make_staff("branch_manager", branch=branch_b)
    assert list(notifications_for_customer(user=here, customer=customer)) == [failed]
    assert list(notifications_for_customer(user=there, customer=customer)) == []
    assert list(notifications_needing_attention(user=here)) == [failed]
    teller = make_staff("teller", branch=branch_a)  # no view permission on notifications
    assert list(notifications_needing_attention(user=teller)) == []


def test_quiet_hours_are_configurable_in_the_admin(admin_client, branch_a):
    response = admin_client.post(
        reverse("admin:notify_branchquiethours_add"),
        {"branch": branch_a.pk, "starts_at": "22:00", "ends_at": "07:30", "enabled": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert BranchQuietHours.objects.get(branch=branch_a).ends_at.minute == 30
    assert Notification.objects.count() == 0
