"""Case notes: what staff wrote on a complaint, and the reason given with a wait, a reply, a
withdrawal or a reopening (events carry ids only)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0006_received_order_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ComplaintNote",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("note", "Case note"),
                            ("waiting", "Waiting on the customer"),
                            ("replied", "The customer replied"),
                            ("withdrawn", "Withdrawn"),
                            ("reopened", "Reopened"),
                        ],
                        default="note",
                        max_length=10,
                        verbose_name="kind",
                    ),
                ),
                ("text", models.TextField(verbose_name="text")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "author",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="author",
                    ),
                ),
                (
                    "complaint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notes",
                        to="complaints.complaint",
                        verbose_name="complaint",
                    ),
                ),
            ],
            options={
                "verbose_name": "case note",
                "verbose_name_plural": "case notes",
                "ordering": ["complaint", "created_at", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("kind__in", ["note", "waiting", "replied", "withdrawn", "reopened"])
                        ),
                        name="note_kind_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("text", ""), _negated=True), name="note_not_empty"
                    ),
                ],
            },
        ),
    ]
