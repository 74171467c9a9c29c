"""The search index's ranking reads term, article and weight from one index (see SearchTerm)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consultation", "0002_role_permissions")]

    operations = [
        migrations.AddIndex(
            model_name="searchterm",
            index=models.Index(fields=["term", "article", "weight"], name="searchterm_ranking_idx"),
        ),
    ]
