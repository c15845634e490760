"""WorkerHeartbeat, taken over from the config app (config/migrations/0002): its table is already there."""

from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """Keep the model's content type (and the permissions that point at it) under its new app label."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="config", model="workerheartbeat").update(app_label="worker")


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="worker", model="workerheartbeat").update(app_label="config")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("config", "0002_move_worker_heartbeat"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WorkerHeartbeat",
                    fields=[
                        ("worker_id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                        ("host", models.CharField(max_length=255)),
                        ("pid", models.PositiveIntegerField()),
                        ("started_at", models.DateTimeField()),
                        ("seen_at", models.DateTimeField(db_index=True)),
                    ],
                ),
            ],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
