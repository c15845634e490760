"""The ready-made staff roles: "Author", "Moderator" and "Admin" (docs/operators/moderation.md).

Django creates permissions after all migrations have run (its post_migrate signal), so on a fresh
database they do not exist yet here: ``create_permissions`` makes those of the apps named first. Running
this again adds what is missing and takes nothing away, so permissions an operator gave a group stay.
"""

from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS, migrations

# The apps whose permissions the groups hold; "Admin" holds all of theirs.
APPS = ["courses", "comments", "progress", "certificates", "accounts"]

# (app label, model, actions) for the groups that hold some permissions.
GROUPS = {
    "Author": [
        ("courses", "course", ["add", "change", "view"]),
        ("courses", "lesson", ["add", "change", "view"]),
        ("courses", "tag", ["add", "change", "view"]),
        ("courses", "lessonlink", ["add", "change", "view"]),
        ("courses", "lessonrevision", ["view"]),
        ("courses", "lessonimage", ["add", "change", "view"]),
    ],
    "Moderator": [
        ("comments", "comment", ["change", "view"]),
        ("comments", "flag", ["change", "view"]),
        ("comments", "commentban", ["add", "change", "view"]),
        ("comments", "problemreport", ["change", "view"]),
        ("courses", "lesson", ["view"]),
    ],
}
ADMIN = "Admin"


def create_groups(apps, schema_editor) -> None:
    using = schema_editor.connection.alias if schema_editor is not None else DEFAULT_DB_ALIAS
    for label in APPS:
        app_config = apps.get_app_config(label)
        # The historical apps of a migration have no models module, and create_permissions skips such apps.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in GROUPS.items():
        wanted = {(app, f"{action}_{model}") for app, model, actions in grants for action in actions}
        permissions = [
            permission
            for permission in Permission.objects.using(using)
            .filter(content_type__app_label__in={app for app, _code in wanted})
            .select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        if len(permissions) != len(wanted):
            found = {(permission.content_type.app_label, permission.codename) for permission in permissions}
            raise RuntimeError(f"Permissions of the group {name!r} not found: {sorted(wanted - found)}")
        group, _created = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*permissions)
    admin, _created = Group.objects.using(using).get_or_create(name=ADMIN)
    admin.permissions.add(*Permission.objects.using(using).filter(content_type__app_label__in=APPS))


def delete_groups(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=[*GROUPS, ADMIN]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0005_sentemail"),
        ("certificates", "0001_initial"),
        ("comments", "0003_moderation"),
        ("courses", "0008_verbose_names"),
        ("progress", "0004_verbose_names"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
