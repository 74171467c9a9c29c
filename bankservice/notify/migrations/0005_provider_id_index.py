"""Delivery receipts look a message up by the gateway's id (partial: most e-mails and skipped
rows have none)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0004_delivery_receipts"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("provider_id", ""), _negated=True),
                fields=["provider_id"],
                name="notification_provider_idx",
            ),
        ),
    ]
