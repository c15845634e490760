from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _


class StreamConfig(AppConfig):
    """The project itself: system checks, error pages and site-wide management commands."""

    name = "config"
    verbose_name = _("Stream")

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the checks)

        connect_content_signals()


# What the cached pages show every reader (web.page_cache): a save or a delete of any of these makes
# them all stale. Bulk updates of these models send courses.events.content_changed themselves.
CONTENT_MODELS = [
    "courses.Course",
    "courses.Lesson",
    "courses.Tag",
    "courses.LessonLink",
    "progress.Level",
    "progress.Achievement",
]

# What one lesson's page shows every reader, by the field that names the lesson: a save or a delete makes
# that page stale. Bulk updates call bump_lessons themselves.
LESSON_MODELS = {
    "comments.Comment": "lesson",
}

# What is a signed-in reader's own on the cached pages, by the field that names the reader. Their
# progress is not here: every write of it takes progress.services.lock_progress, which bumps.
READER_MODELS = {
    "accounts.User": "pk",
    "comments.Notification": "recipient_id",
    "comments.Follow": "learner_id",
    "comments.CommentBan": "learner_id",  # the comment form, or why there is none
    "account.EmailAddress": "user_id",  # a confirmed address lets its learner comment
    "certificates.Certificate": "learner_id",
}


def connect_content_signals() -> None:
    from django.apps import apps

    from courses.events import content_changed
    from web.page_cache import bump_content_generation, bump_lessons, bump_reader

    for label in CONTENT_MODELS:
        model = apps.get_model(label)
        post_save.connect(bump_content_generation, sender=model, dispatch_uid=f"content:{label}:save")
        post_delete.connect(bump_content_generation, sender=model, dispatch_uid=f"content:{label}:delete")
    for label, field in LESSON_MODELS.items():
        _connect_by_field(apps.get_model(label), field, bump_lessons, "lesson")
    for label, field in READER_MODELS.items():
        _connect_by_field(apps.get_model(label), field, bump_reader, "reader")
    tags = apps.get_model("courses.Lesson").tags.through
    m2m_changed.connect(bump_content_generation, sender=tags, dispatch_uid="content:lesson-tags")
    content_changed.connect(bump_content_generation, dispatch_uid="content:courses")


def _connect_by_field(model, field: str, bump, kind: str) -> None:
    """Call ``bump(value of field)`` after each save and delete of ``model``."""

    def receiver(instance, **signal_arguments) -> None:
        bump(getattr(instance, field))

    label = model._meta.label
    post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"{kind}:{label}:save")
    post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"{kind}:{label}:delete")
