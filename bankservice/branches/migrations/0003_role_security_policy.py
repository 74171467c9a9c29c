"""Per-role security policy (two-factor sign-in required or not); administrators may set it."""

import django.db.models.deletion
from django.db import migrations, models

from bankservice.branches.role_grants import grant_operation


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("branches", "0002_roles"),
    ]

    operations = [
        migrations.CreateModel(
            name="RoleSecurityPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "require_two_factor",
                    models.BooleanField(default=False, verbose_name="require two-factor sign-in"),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "role",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="security_policy",
                        to="auth.group",
                        verbose_name="role",
                    ),
                ),
            ],
            options={
                "verbose_name": "role security policy",
                "verbose_name_plural": "role security policies",
                "ordering": ["role__name"],
            },
        ),
        grant_operation(
            {
                "admin": [
                    "branches.view_rolesecuritypolicy",
                    "branches.change_rolesecuritypolicy",
                ]
            }
        ),
    ]
