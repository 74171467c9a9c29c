"""Events are append-only: on PostgreSQL a trigger refuses UPDATE and DELETE of any row, so not
even raw SQL through the application's connection can rewrite the audit trail.

TRUNCATE is not blocked by the trigger (Django's test flush uses it); production runs the
application as a database role without the TRUNCATE privilege (see README, "Production").
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION events_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'events_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS events_event_append_only ON events_event;
CREATE TRIGGER events_event_append_only
    BEFORE UPDATE OR DELETE ON events_event
    FOR EACH ROW EXECUTE FUNCTION events_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS events_event_append_only ON events_event;
DROP FUNCTION IF EXISTS events_event_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
