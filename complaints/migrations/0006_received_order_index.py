"""Complaints in received order (latest first) across many branches and over a period: the
lists of head office and of a region, and the period filters (bench/complaint_list.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0005_lifecycle_data"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="complaint",
            index=models.Index(fields=["-received_at", "-id"], name="complaint_received_idx"),
        ),
    ]
