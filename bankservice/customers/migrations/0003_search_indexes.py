"""Trigram indexes for customer search on PostgreSQL: name contains (icontains is
UPPER(full_name) LIKE UPPER('%…%')) and phone ends with (LIKE '%5678'). Without them every
search scans the whole table (bench/customer_search.py). SQLite keeps its plain scan."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_name_trgm_idx ON customers_customer "
    "USING gin (UPPER(full_name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_phone_trgm_idx ON customers_customer "
    "USING gin (phone gin_trgm_ops)",
]
DROP = [
    "DROP INDEX IF EXISTS customer_name_trgm_idx",
    "DROP INDEX IF EXISTS customer_phone_trgm_idx",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE:
            schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_merge")]

    operations = [migrations.RunPython(forwards, backwards)]
