import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from courses.models import Course, Lesson, Status, Tag
from progress.models import Achievement, Rule


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"learner{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def save_password(user, create, extracted, **kwargs):
        if create:
            user.save()


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    summary = "A course."
    status = Status.PUBLISHED


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag{n}")
    slug = factory.LazyAttribute(lambda tag: tag.name)


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    slug = factory.Sequence(lambda n: f"lesson-{n}")
    position = factory.Sequence(lambda n: n + 1)
    status = Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)
    body = '## Start\n\nSome words.\n\n```python title="Hello"\nprint("hi")\n```\n'


class AchievementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Achievement

    code = factory.Sequence(lambda n: f"achievement-{n}")
    title_en = factory.Sequence(lambda n: f"Achievement {n}")
    title_ko = factory.Sequence(lambda n: f"업적 {n}")
    description_en = "Complete lessons."
    description_ko = "레슨을 완료하세요."
    icon = "🏅"
    rule = Rule.LESSONS_COMPLETED
    threshold = 1
