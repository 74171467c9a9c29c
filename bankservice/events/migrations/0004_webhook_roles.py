"""Administrators manage webhook subscriptions and re-send deliveries; auditors may look."""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation

VIEW = ["events.view_webhooksubscription", "events.view_webhookdelivery"]


class Migration(migrations.Migration):
    dependencies = [("events", "0003_webhooks"), ("branches", "0002_roles")]

    operations = [
        grant_operation(
            {
                "admin": VIEW
                + [
                    "events.add_webhooksubscription",
                    "events.change_webhooksubscription",
                    "events.delete_webhooksubscription",
                    "events.resend_webhookdelivery",
                ],
                "auditor": VIEW,
            }
        )
    ]
