from urllib.parse import urlsplit

from django.conf import global_settings, settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Func, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from config.page_cache import bump_content_generation
from courses.exercises import validate_checks, validate_starter
from courses.markdown import reading_minutes, render_markdown


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class CourseQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Status.PUBLISHED)

    def visible_to(self, user):
        return self if user.is_staff else self.published()

    def for_catalogue(self, user):
        """What the catalogue's cards show (never a description), with each course's published lessons counted.

        Counted by a subquery rather than a join and GROUP BY: the database counts the lessons
        of the courses on the page only, and the paginator's COUNT(*) reads the courses alone.
        """
        published_lessons = Lesson.objects.published().filter(course=OuterRef("pk")).order_by()
        return (
            self.visible_to(user)
            .annotate(lesson_count=Subquery(published_lessons.values(count=Func("pk", function="COUNT"))))
            .only("title", "slug", "summary", "status", "language")
        )

    def for_page(self):
        """A course page shows the description's HTML, never its Markdown."""
        return self.defer("description")


class Course(models.Model):
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=True)
    summary = models.TextField(_("summary"), blank=True)
    language = models.CharField(
        _("content language"),
        max_length=10,
        choices=global_settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language the course is written in; the site's interface keeps the reader's own."),
    )
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    description_html = models.TextField(editable=False, default="")
    position = models.PositiveIntegerField(_("position"), default=0)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.DRAFT)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # The HTML carries accessible names (heading anchors, code blocks): in the course's language.
        with translation.override(self.language):
            self.description_html = render_markdown(self.description).html
        language_changed = (
            self.pk is not None and Course.objects.filter(pk=self.pk).exclude(language=self.language).exists()
        )
        super().save(*args, **kwargs)
        if language_changed:
            # The lessons' stored HTML names its headings and code blocks in the old language.
            lessons = list(self.lessons.all())
            for lesson in lessons:
                lesson.course = self
                lesson.render()
            Lesson.objects.bulk_update(lessons, fields=sorted(Lesson.RENDERED))
            bump_content_generation()

    def get_absolute_url(self) -> str:
        return reverse("courses:course", kwargs={"course": self.slug})

    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    is_published.boolean = True
    is_published.short_description = _("published")


# Symbols that tell tags apart but that slugify would drop: C, C++ and C# must not share /tags/c/.
TAG_SYMBOL_WORDS = {"+": " plus ", "#": " sharp ", "*": " star ", "&": " and "}


def tag_slug(name: str) -> str:
    """The address of the tag called ``name``: "C++" is c-plus-plus, "AsyncIO" is asyncio."""
    return slugify("".join(TAG_SYMBOL_WORDS.get(char, char) for char in name), allow_unicode=True)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("courses:tag", kwargs={"tag": self.slug})


class LessonQuerySet(models.QuerySet):
    def published(self):
        return self.filter(Lesson.published_q())

    def visible_to(self, user):
        return self if user.is_staff else self.published()

    def with_checks(self):
        """Lessons whose exercise has checks (``Lesson.has_checks``): text that is not only blank."""
        return self.filter(exercise_checks__regex=r"\S")

    def for_list(self):
        """What a row in a list of lessons shows: no body or exercise; of the course, its name, state and language."""
        return self.select_related("course").only(
            "title",
            "slug",
            "position",
            "status",
            "published_at",
            "reading_minutes",
            "course__title",
            "course__slug",
            "course__status",
            "course__language",
        )

    def with_page_relations(self):
        """A lesson's page: its HTML, tags and links, without the Markdown they were rendered from."""
        return (
            self.select_related("course")
            .prefetch_related("tags", "links")
            .defer("body", "exercise", "course__description", "course__description_html")
        )


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("course"))
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, allow_unicode=True)
    position = models.PositiveIntegerField(_("position"), help_text=_("Order of the lesson in its course."))
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.DRAFT)
    published_at = models.DateTimeField(
        _("publication date"),
        null=True,
        blank=True,
        help_text=_("Set when the lesson is first published; a future date schedules it."),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="lessons", verbose_name=_("tags"))
    xp = models.PositiveIntegerField(_("XP reward"), default=10)
    summary = models.TextField(_("summary"), blank=True)
    body = models.TextField(_("body"), help_text=_('Markdown. Code blocks: ```python title="A title".'))
    exercise = models.TextField(_("exercise"), blank=True, help_text=_("Markdown."))
    exercise_starter = models.TextField(
        _("starter code"),
        blank=True,
        help_text=_("Python the learner's editor starts with: a skeleton to fill in, or empty."),
    )
    exercise_checks = models.TextField(
        _("checks"),
        blank=True,
        help_text=_(
            "Python run in the learner's browser after their code, never on the server. Each top-level "
            'assert is one check, shown by its message: assert add(2, 3) == 5, "add adds two numbers". '
            "Other statements prepare the checks after them. Leave empty for an exercise without checks."
        ),
    )
    exercise_xp = models.PositiveIntegerField(
        _("exercise XP"),
        default=10,
        help_text=_("Paid once, when the learner's code first passes every check."),
    )
    minutes = models.PositiveIntegerField(
        _("reading time override"),
        null=True,
        blank=True,
        help_text=_("Minutes. Leave empty to compute it from the text."),
    )
    body_html = models.TextField(editable=False, default="")
    exercise_html = models.TextField(editable=False, default="")
    toc = models.JSONField(editable=False, default=list)
    reading_minutes = models.PositiveIntegerField(_("reading time"), editable=False, default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["course", "position"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="lesson_unique_slug_in_course"),
            # Deferred, so lessons can swap positions inside one transaction.
            models.UniqueConstraint(
                fields=["course", "position"],
                name="lesson_unique_position_in_course",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # /courses/<course>/feed/ is the course's feed (courses/urls.py): a lesson there could never be read.
    RESERVED_SLUGS = frozenset({"feed"})

    RENDERED_FROM = frozenset({"body", "exercise", "minutes"})
    RENDERED = frozenset({"body_html", "toc", "exercise_html", "reading_minutes"})

    def save(self, *args, update_fields=None, **kwargs) -> None:
        """Render the Markdown (unless ``update_fields`` leaves the sources alone) and date a first publication.

        This is the one place that sets ``published_at`` when a lesson is first published: the admin's bulk
        action goes through it too (``courses.services.publish_lessons``).
        """
        if update_fields is None or not self.RENDERED_FROM.isdisjoint(update_fields):
            self.render()
            if update_fields is not None:
                update_fields = {*update_fields, *self.RENDERED}
        if self.status == Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
            if update_fields is not None:
                update_fields = {*update_fields, "published_at"}
        super().save(*args, update_fields=update_fields, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("courses:lesson", kwargs={"course": self.course.slug, "lesson": self.slug})

    @property
    def has_checks(self) -> bool:
        """Whether the exercise has checks for the learner's code to pass (and XP to earn by passing them)."""
        return bool(self.exercise_checks.strip())

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.slug in self.RESERVED_SLUGS:
            errors["slug"] = _("This address is taken by the course's feed; choose another slug.")
        for field, validate in (("exercise_starter", validate_starter), ("exercise_checks", validate_checks)):
            if getattr(self, field).strip():
                try:
                    validate(getattr(self, field))
                except ValidationError as error:
                    errors[field] = error
        if self.has_checks and not self.exercise.strip() and "exercise_checks" not in errors:
            errors["exercise_checks"] = ValidationError(
                _("Checks need an exercise: write in the exercise what the learner's code should do."),
                code="checks_without_exercise",
            )
        if errors:
            raise ValidationError(errors)

    def render(self) -> None:
        """Store the lesson's HTML, table of contents and reading time, made from its Markdown."""
        # The HTML carries accessible names (heading anchors, code blocks): in the course's language.
        with translation.override(self.course.language):
            body = render_markdown(self.body)
            exercise = render_markdown(self.exercise)
        self.body_html = body.html
        self.toc = body.toc
        self.exercise_html = exercise.html
        self.reading_minutes = self.minutes or reading_minutes(body.amount + exercise.amount)

    def is_published(self) -> bool:
        return (
            self.status == Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
            and self.course.status == Status.PUBLISHED
        )

    is_published.boolean = True
    is_published.short_description = _("on the site")

    def is_scheduled(self) -> bool:
        return self.status == Status.PUBLISHED and self.published_at is not None and self.published_at > timezone.now()

    @staticmethod
    def published_q(prefix: str = "") -> Q:
        return Q(
            **{
                f"{prefix}status": Status.PUBLISHED,
                f"{prefix}published_at__lte": timezone.now(),
                f"{prefix}course__status": Status.PUBLISHED,
            }
        )


class LessonLink(models.Model):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="links", verbose_name=_("lesson"))
    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("URL"), max_length=500)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("external link")
        verbose_name_plural = _("external links")

    def __str__(self) -> str:
        return self.title

    @property
    def href(self) -> str:
        """The URL if it is a web address, else "" (a row written past validation must not become a script link)."""
        try:
            scheme = urlsplit(self.url.strip()).scheme
        except ValueError:
            return ""
        return self.url.strip() if scheme.lower() in {"http", "https"} else ""


class SearchEntryQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Entries of the lessons and courses ``user`` may read: published ones, or all of them for staff."""
        if user.is_staff:
            return self
        return self.filter(Q(lesson__isnull=True, course__status=Status.PUBLISHED) | Lesson.published_q("lesson__"))


class SearchEntry(models.Model):
    """What search finds of one lesson or one course, written when it is saved (``courses.search``).

    In a table of its own, so the pages that read lessons and courses never load it.
    """

    lesson = models.OneToOneField(Lesson, on_delete=models.CASCADE, null=True, related_name="search_entry")
    course = models.OneToOneField(Course, on_delete=models.CASCADE, null=True, related_name="search_entry")
    # Weighted words: A the title; B tags, headings and code-block titles; C the summary; D the text and code.
    vector = SearchVectorField()
    # The title, tags, headings and code-block titles, for pg_trgm: a partial word or a typo still finds them.
    keywords = models.TextField()
    # The plain text a result's passage is cut from.
    text = models.TextField()

    objects = SearchEntryQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(lesson__isnull=True) ^ Q(course__isnull=True), name="search_entry_lesson_or_course"
            ),
        ]
        indexes = [
            GinIndex(fields=["vector"], name="search_entry_vector"),
            GinIndex(OpClass("keywords", name="gin_trgm_ops"), name="search_entry_keywords_trgm"),
        ]

    def __str__(self) -> str:
        return f"Search entry of {self.lesson or self.course}"
