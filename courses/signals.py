"""Search entries follow the lessons, courses and tags they are made of (courses/search.py)."""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from courses import search
from courses.models import Course, Lesson, Tag

# What a lesson's entry is made of, besides its tags.
LESSON_SEARCHED = frozenset({"title", "summary", "body", "exercise"})
COURSE_SEARCHED = frozenset({"title", "summary", "description"})


@receiver(post_save, sender=Lesson, dispatch_uid="search:lesson")
def index_lesson(instance: Lesson, update_fields=None, **kwargs) -> None:
    if update_fields is None or not LESSON_SEARCHED.isdisjoint(update_fields):
        search.index_lessons([instance])


@receiver(post_save, sender=Course, dispatch_uid="search:course")
def index_course(instance: Course, update_fields=None, **kwargs) -> None:
    if update_fields is None or not COURSE_SEARCHED.isdisjoint(update_fields):
        search.index_courses([instance])


@receiver(m2m_changed, sender=Lesson.tags.through, dispatch_uid="search:lesson-tags")
def index_tagged_lessons(instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    """A lesson's tags changed, from either side (``lesson.tags.add`` or ``tag.lessons.remove``)."""
    if reverse and action == "pre_clear":
        instance._search_lessons = list(instance.lessons.values_list("pk", flat=True))
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        search.index_lessons([instance])
    else:
        pks = instance.__dict__.pop("_search_lessons", []) if action == "post_clear" else pk_set
        search.index_lessons(Lesson.objects.filter(pk__in=pks).prefetch_related("tags"))


@receiver(post_save, sender=Tag, dispatch_uid="search:tag-renamed")
def index_renamed_tag(instance: Tag, created: bool, **kwargs) -> None:
    if not created:
        search.index_lessons(instance.lessons.prefetch_related("tags"))


@receiver(pre_delete, sender=Tag, dispatch_uid="search:tag-deleting")
def remember_tagged_lessons(instance: Tag, **kwargs) -> None:
    instance._search_lessons = list(instance.lessons.values_list("pk", flat=True))


@receiver(post_delete, sender=Tag, dispatch_uid="search:tag-deleted")
def index_untagged_lessons(instance: Tag, **kwargs) -> None:
    pks = instance.__dict__.pop("_search_lessons", [])
    search.index_lessons(Lesson.objects.filter(pk__in=pks).prefetch_related("tags"))
