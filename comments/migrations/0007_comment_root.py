import django.db.models.deletion
from django.db import migrations, models


def fill_roots(apps, schema_editor):
    """Each reply's root, a level at a time: the replies to roots first, then theirs."""
    with schema_editor.connection.cursor() as cursor:
        updated = None
        while updated != 0:
            cursor.execute(
                """
                UPDATE comments_comment AS reply
                SET root_id = COALESCE(parent.root_id, parent.id)
                FROM comments_comment AS parent
                WHERE reply.parent_id = parent.id AND reply.root_id IS NULL
                  AND (parent.parent_id IS NULL OR parent.root_id IS NOT NULL)
                """
            )
            updated = cursor.rowcount


class Migration(migrations.Migration):
    dependencies = [("comments", "0006_submission_keys")]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="root",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="comments.comment",
            ),
        ),
        migrations.RunPython(fill_roots, migrations.RunPython.noop),
    ]
