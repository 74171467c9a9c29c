"""Granting permissions to the role groups from data migrations.

Every app that adds permissions grants them to roles in a data migration of its own:

    from bankservice.branches.role_grants import grant_operation

    operations = [grant_operation({"branch_manager": ["app.view_thing"], ...})]

Only the historical `apps` registry passed to the migration is used, so old migrations keep
working whatever the models become.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def _create_permissions(apps, app_labels) -> None:
    # Permissions are normally created after all migrations have run; these are needed now.
    for label in sorted(app_labels):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None


def grant_operation(role_permissions: dict[str, list[str]]) -> migrations.RunPython:
    """A RunPython that gives each role group ("teller") its permissions ("app.codename")."""
    app_labels = {perm.split(".")[0] for perms in role_permissions.values() for perm in perms}

    def grant(apps, schema_editor):
        _create_permissions(apps, app_labels)
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        for role, perms in role_permissions.items():
            group, _created = Group.objects.get_or_create(name=role)
            for perm in perms:
                app_label, codename = perm.split(".")
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )

    def revoke(apps, schema_editor):
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        for role, perms in role_permissions.items():
            group = Group.objects.filter(name=role).first()
            for perm in perms if group else ():
                app_label, codename = perm.split(".")
                group.permissions.remove(
                    *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
                )

    return migrations.RunPython(grant, revoke)
