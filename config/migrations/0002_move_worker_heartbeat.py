"""WorkerHeartbeat moved to the worker app (worker/migrations/0001_initial.py takes it over).

The table keeps its rows: it is renamed to the new app's name here, and this app's state forgets the model.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable("WorkerHeartbeat", "worker_workerheartbeat")],
            state_operations=[migrations.DeleteModel("WorkerHeartbeat")],
        ),
    ]
