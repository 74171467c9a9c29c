"""Threshold alerts on the live monitor's figures (issue 9).

A branch's managers set `AlertRule`s (a figure, optionally one service, a threshold); the rule
services below check who may, and record each change as an audit event.

`alerts_check()` (the Celery task dashboards.check_alerts, every minute) compares every active
rule with the live figures (dashboards/monitor.py): a figure past its threshold opens an
`AlertFiring` and e-mails the branch's managers once; back within it, the firing is closed
(`cleared_at`), and a later crossing is a new firing with a new e-mail. Two checks at once
notify once: the partial unique index `alertfiring_one_open` lets one insert through, the other
gets an IntegrityError (after the first commits) and does nothing. The e-mail is queued in the
same transaction as the firing, with the firing in its dedupe key.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import Branch, Role
from bankservice.branches.scope import can_act_at
from bankservice.branches.selectors import staff_to_notify
from bankservice.core.errors import BadInput
from bankservice.events.services import record
from bankservice.notify.registry import MessageType, register
from bankservice.notify.services import email_staff

from . import monitor
from .models import AlertFiring, AlertMetric, AlertRule

logger = logging.getLogger(__name__)

ADD_PERM = "dashboards.add_alertrule"
CHANGE_PERM = "dashboards.change_alertrule"
DELETE_PERM = "dashboards.delete_alertrule"
VIEW_PERM = "dashboards.view_alertrule"

ALERT_MESSAGE = "dashboards.alert_fired"
MESSAGE_TYPE = MessageType(
    ALERT_MESSAGE,
    _("To the branch managers: a live figure passed an alert threshold"),
    required=("figure", "value", "threshold", "fired_at"),
    channels=("email",),
    sample={
        "figure": "Longest wait now, minutes",
        "service": "cash",
        "value": "25",
        "threshold": "20",
        "fired_at": "2026-11-30 10:15",
    },
)
EVENT_LABELS = {
    "dashboards.alert_rule_created": _("Alert rule added"),
    "dashboards.alert_rule_updated": _("Alert rule changed"),
    "dashboards.alert_rule_deleted": _("Alert rule deleted"),
    "dashboards.alert_fired": _("Alert threshold passed"),
    "dashboards.alert_cleared": _("Alert figure back within its threshold"),
}


def register_messages() -> None:
    """The alert e-mail and the event labels (from DashboardsConfig.ready)."""
    from bankservice.events.catalogue import register_event_labels

    register(MESSAGE_TYPE)
    register_event_labels(EVENT_LABELS)


# --- Rules (configuration) ---------------------------------------------------------------------


def _check_rule(branch: Branch, metric: str, service: str) -> None:
    if metric not in AlertMetric.values:
        raise BadInput(_("Choose a figure from the list."), field="metric")
    if service and metric not in monitor.QUEUE_METRICS:
        raise BadInput(
            _("Only the queue figures (waiting, longest wait) can be set for one service."),
            field="service",
        )


def alert_rule_create(
    *, actor, branch: Branch, metric: str, threshold: int, service: str = "", is_active=True
) -> AlertRule:
    if not can_act_at(actor, ADD_PERM, branch.pk):
        raise BadInput(_("You cannot set alerts at this branch."), field="branch")
    _check_rule(branch, metric, service)
    with transaction.atomic():
        rule = AlertRule.objects.create(
            branch=branch,
            metric=metric,
            service=service,
            threshold=threshold,
            is_active=is_active,
            created_by=actor,
        )
        record(
            type="dashboards.alert_rule_created",
            actor=actor,
            branch=branch,
            subject=rule,
            payload={
                "metric": metric,
                "service": service,
                "threshold": threshold,
                "is_active": is_active,
            },
        )
    return rule


def alert_rule_update(*, actor, rule: AlertRule, threshold: int, is_active: bool) -> AlertRule:
    """Change a rule's threshold or switch it on or off (an open firing is closed by the next
    check when the rule is off or the figure is within the new threshold)."""
    if not can_act_at(actor, CHANGE_PERM, rule.branch_id):
        raise BadInput(_("You cannot change alerts at this branch."), field="branch")
    with transaction.atomic():
        locked = AlertRule.objects.select_for_update().get(pk=rule.pk)
        changes = {}
        if locked.threshold != threshold:
            changes["threshold"] = [locked.threshold, threshold]
            locked.threshold = threshold
        if locked.is_active != is_active:
            changes["is_active"] = [locked.is_active, is_active]
            locked.is_active = is_active
        if changes:
            locked.save(update_fields=list(changes))
            record(
                type="dashboards.alert_rule_updated",
                actor=actor,
                branch=locked.branch,
                subject=locked,
                payload={"metric": locked.metric, "service": locked.service, "changes": changes},
            )
    return locked


def alert_rule_delete(*, actor, rule: AlertRule) -> None:
    if not can_act_at(actor, DELETE_PERM, rule.branch_id):
        raise BadInput(_("You cannot delete alerts at this branch."), field="branch")
    with transaction.atomic():
        record(
            type="dashboards.alert_rule_deleted",
            actor=actor,
            branch=rule.branch,
            subject=rule,
            payload={"metric": rule.metric, "service": rule.service, "threshold": rule.threshold},
        )
        rule.delete()


# --- The check ---------------------------------------------------------------------------------


def _branch_managers(branch: Branch) -> list:
    return staff_to_notify(Role.BRANCH_MANAGER, branch)


def _fire(rule: AlertRule, value: float, now: dt.datetime) -> AlertFiring | None:
    """Open a firing and e-mail the branch managers, in one transaction; None when another
    check opened one first."""
    try:
        with transaction.atomic():
            firing = AlertFiring.objects.create(
                rule=rule, branch=rule.branch, value=value, fired_at=now
            )
            # Staff e-mails are in the bank's language (email_staff), the figure's name too.
            with translation.override(settings.LANGUAGE_CODE):
                label = str(AlertMetric(rule.metric).label)
            email_staff(
                _branch_managers(rule.branch),
                template=ALERT_MESSAGE,
                branch=rule.branch,
                context={
                    "figure": label,
                    "service": rule.service,
                    "value": f"{value:g}",
                    "threshold": str(rule.threshold),
                    "fired_at": f"{now.astimezone(rule.branch.zone):%Y-%m-%d %H:%M}",
                },
                dedupe_key=f"alert:{firing.pk}",
            )
            record(
                type="dashboards.alert_fired",
                actor=None,
                branch=rule.branch,
                subject=rule,
                payload={"firing_id": firing.pk, "value": value, "threshold": rule.threshold},
            )
    except IntegrityError:
        # alertfiring_one_open: another check has this episode (and has told the managers).
        return None
    return firing


def _clear(firing: AlertFiring, value: float | None, now: dt.datetime) -> bool:
    with transaction.atomic():
        cleared = AlertFiring.objects.filter(pk=firing.pk, cleared_at__isnull=True).update(
            cleared_at=now
        )
        if cleared:
            record(
                type="dashboards.alert_cleared",
                actor=None,
                branch=firing.branch,
                subject=firing.rule,
                payload={"firing_id": firing.pk, "value": value},
            )
    return bool(cleared)


def alerts_check(now: dt.datetime | None = None) -> dict[str, int]:
    """Compare every active rule with the live figures; open and close firings. Returns how
    many firings were opened and cleared (for the task's log)."""
    now = now or timezone.now()
    rules = list(AlertRule.objects.select_related("branch"))
    open_firings = {
        firing.rule_id: firing
        for firing in AlertFiring.objects.filter(cleared_at__isnull=True).select_related(
            "branch", "rule"
        )
    }
    active = [rule for rule in rules if rule.is_active]
    branch_ids = {rule.branch_id for rule in active}
    figures = monitor.live_figures(branch_ids, now=now)
    fired = cleared = 0
    for rule in rules:
        firing = open_firings.get(rule.pk)
        if not rule.is_active:
            if firing is not None and _clear(firing, None, now):
                cleared += 1
            continue
        branch_figures = figures.get(rule.branch_id)
        value = (
            monitor.figure(branch_figures, rule.metric, rule.service) if branch_figures else None
        )
        if monitor.over(rule.metric, value, rule.threshold):
            if firing is None and _fire(rule, value, now) is not None:
                fired += 1
        elif firing is not None and _clear(firing, value, now):
            cleared += 1
    if fired or cleared:
        logger.info("dashboards alerts: %s fired, %s cleared", fired, cleared)
    return {"fired": fired, "cleared": cleared}
