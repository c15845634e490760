import datetime
from urllib.parse import urlsplit

from django.conf import global_settings, settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Func, Min, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from courses.events import content_changed
from courses.exercises import split_hints, validate_checks, validate_solution, validate_starter
from courses.markdown import reading_minutes, render_code_block, render_markdown


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    # A lesson whose file left its course folder: off the site, its learners' records kept (courses.importer).
    ARCHIVED = "archived", _("Archived")


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
    source = models.CharField(
        _("import source"),
        max_length=200,
        blank=True,
        editable=False,
        help_text=_("Which folder of files the course is imported from: its course.md's id, else the folder's name."),
    )
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
        before = Course.objects.filter(pk=self.pk).values("language", "slug").first() if self.pk else None
        language_changed = before is not None and before["language"] != self.language
        super().save(*args, **kwargs)
        if before is not None and before["slug"] != self.slug:
            # Links to the old address, and to its lessons, keep working (courses.views).
            CourseRedirect.objects.update_or_create(slug=before["slug"], defaults={"course": self})
        if language_changed:
            # The lessons' stored HTML names its headings and code blocks in the old language.
            lessons = list(self.lessons.all())
            for lesson in lessons:
                lesson.course = self
                lesson.render()
            Lesson.objects.bulk_update(lessons, fields=sorted(Lesson.RENDERED))
            content_changed.send(sender=__name__)

    def get_absolute_url(self) -> str:
        return reverse("courses:course", kwargs={"course": self.slug})

    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    is_published.boolean = True
    is_published.short_description = _("published")


# The longest demo lesson is about 15 KB; a lesson is rendered in one go and served as one page, so a body far
# beyond that is a mistake, not a lesson (the importer's limit for a whole file is the same).
MAX_BODY_BYTES = 512 * 1024

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

    def next_publication(self) -> datetime.datetime | None:
        """When the next scheduled lesson goes out: lists of lessons change then without a write."""
        scheduled = self.filter(status=Status.PUBLISHED, published_at__gt=timezone.now())
        return scheduled.aggregate(at=Min("published_at"))["at"]

    def with_scheduled_changes(self):
        """Lessons whose draft of changes is set to be published at a time (``courses.revisions.schedule_draft``)."""
        return self.filter(draft_publish_at__isnull=False)

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


def forget_draft(collector, field, sub_objs, using) -> None:
    """``on_delete`` of ``Lesson.draft``: SET_NULL, and the draft's schedule goes with it.

    The schedule is cleared by the UPDATE before the draft's, since PostgreSQL checks the constraint
    lesson_schedule_needs_draft after each one (a lesson deleted with a scheduled draft is updated first).
    """
    for name in ("draft_scheduled_by", "draft_publish_at"):
        collector.add_field_update(field.model._meta.get_field(name), None, sub_objs)
    models.SET_NULL(collector, field, sub_objs, using)


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("course"))
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, allow_unicode=True)
    source_id = models.CharField(
        _("import id"),
        max_length=100,
        blank=True,
        help_text=_(
            "The id: of the lesson's file. A re-import finds the lesson by it, whatever its file and slug are called."
        ),
    )
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
        help_text=_(
            "Paid once, when the learner's code first passes every check; half of it (rounded down) after the "
            "learner has seen the reference solution."
        ),
    )
    exercise_hints = models.TextField(
        _("hints"),
        blank=True,
        help_text=_(
            "Markdown. Hints the learner opens one at a time, in this order, each more telling than the last. "
            "Separate them with a line holding only ---."
        ),
    )
    exercise_solution = models.TextField(
        _("reference solution"),
        blank=True,
        help_text=_(
            "Python that passes every check. Offered to a learner after three failed checks, or once they pass; "
            "a pass after seeing it pays half the exercise's XP."
        ),
    )
    minutes = models.PositiveIntegerField(
        _("reading time override"),
        null=True,
        blank=True,
        help_text=_("Minutes. Leave empty to compute it from the text."),
    )
    body_html = models.TextField(editable=False, default="")
    exercise_html = models.TextField(editable=False, default="")
    exercise_hints_html = models.JSONField(editable=False, default=list)
    exercise_solution_html = models.TextField(editable=False, default="")
    toc = models.JSONField(editable=False, default=list)
    reading_minutes = models.PositiveIntegerField(_("reading time"), editable=False, default=1)
    # What learners read is the row's own content, made from ``revision``; ``draft`` is a newer revision of a
    # published lesson that is not yet public (courses.revisions).
    revision = models.ForeignKey(
        "LessonRevision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("published revision"),
    )
    draft = models.ForeignKey(
        "LessonRevision",
        on_delete=forget_draft,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("draft of changes"),
    )
    # Set and cleared by courses.revisions only (schedule_draft; publishing or discarding the draft).
    draft_publish_at = models.DateTimeField(
        _("changes scheduled for"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the draft of changes is published by itself, with no one present; empty if it is not."),
    )
    draft_scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("changes scheduled by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["course", "position"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="lesson_unique_slug_in_course"),
            models.UniqueConstraint(
                fields=["course", "source_id"], condition=~Q(source_id=""), name="lesson_unique_source_id_in_course"
            ),
            # Deferred, so lessons can swap positions inside one transaction.
            models.UniqueConstraint(
                fields=["course", "position"],
                name="lesson_unique_position_in_course",
                deferrable=models.Deferrable.DEFERRED,
            ),
            # A schedule is the draft's: publishing or discarding the draft ends it (courses.revisions).
            models.CheckConstraint(
                condition=Q(draft_publish_at__isnull=True) | Q(draft__isnull=False),
                name="lesson_schedule_needs_draft",
            ),
            models.CheckConstraint(
                condition=Q(draft_scheduled_by__isnull=True) | Q(draft_publish_at__isnull=False),
                name="lesson_scheduler_needs_schedule",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # /courses/<course>/feed/ is the course's feed (courses/urls.py): a lesson there could never be read.
    RESERVED_SLUGS = frozenset({"feed"})

    RENDERED_FROM = frozenset({"body", "exercise", "exercise_hints", "exercise_solution", "minutes"})
    # The Markdown an author writes, checked by courses.lint before it is saved.
    MARKDOWN_FIELDS = ("body", "exercise", "exercise_hints")
    RENDERED = frozenset(
        {"body_html", "toc", "exercise_html", "exercise_hints_html", "exercise_solution_html", "reading_minutes"}
    )
    # What a revision holds (with the external links): what an author writes, as opposed to where the lesson
    # stands (course, slug, position, status, dates, tags), which changes at once.
    CONTENT_FIELDS = (
        "title",
        "summary",
        "body",
        "exercise",
        "exercise_starter",
        "exercise_checks",
        "exercise_xp",
        "exercise_hints",
        "exercise_solution",
        "xp",
        "minutes",
    )

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
        moved_from = None
        if self.pk is not None and (update_fields is None or not {"slug", "course"}.isdisjoint(update_fields)):
            moved_from = self.__dict__.pop("moved_from", None) or (
                Lesson.objects.filter(pk=self.pk).values_list("course__slug", "slug").first()
            )
        super().save(*args, update_fields=update_fields, **kwargs)
        if moved_from is not None and tuple(moved_from) != (self.course.slug, self.slug):
            # The old address answers with a redirect to the new one (courses.views), for good.
            LessonRedirect.objects.update_or_create(
                course_slug=moved_from[0], lesson_slug=moved_from[1], defaults={"lesson": self}
            )

    def get_absolute_url(self) -> str:
        return reverse("courses:lesson", kwargs={"course": self.course.slug, "lesson": self.slug})

    def content(self) -> dict:
        """The lesson's content as a revision keeps it: the fields an author writes and the external links."""
        return {
            **{name: getattr(self, name) for name in self.CONTENT_FIELDS},
            "links": [{"title": link.title, "url": link.url} for link in self.links.all()],
        }

    def apply_content(self, content: dict) -> None:
        """Set the fields of ``content`` on this instance (not the links, which are rows, and not saved)."""
        for name in self.CONTENT_FIELDS:
            if name in content:
                setattr(self, name, content[name])

    @property
    def has_draft(self) -> bool:
        return self.draft_id is not None

    @property
    def exercise_xp_after_solution(self) -> int:
        """What a first pass pays once the learner has seen the reference solution: half, rounded down."""
        return self.exercise_xp // 2

    @property
    def has_checks(self) -> bool:
        """Whether the exercise has checks for the learner's code to pass (and XP to earn by passing them)."""
        return bool(self.exercise_checks.strip())

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.slug in self.RESERVED_SLUGS:
            errors["slug"] = _("This address is taken by the course's feed; choose another slug.")
        for field, validate in (
            ("exercise_starter", validate_starter),
            ("exercise_checks", validate_checks),
            ("exercise_solution", validate_solution),
        ):
            if getattr(self, field).strip():
                try:
                    validate(getattr(self, field))
                except ValidationError as error:
                    errors[field] = error
        if len(self.body.encode()) > MAX_BODY_BYTES:
            errors["body"] = ValidationError(
                _("A lesson's body may be at most %(limit)d KB; this one is %(size)d KB. Split it into lessons."),
                code="too_long",
                params={"limit": MAX_BODY_BYTES // 1024, "size": len(self.body.encode()) // 1024},
            )
        if self.status == Status.PUBLISHED and not self.body.strip():
            errors["body"] = ValidationError(_("A published lesson needs a body."), code="empty_body")
        if self.has_checks and not self.exercise.strip() and "exercise_checks" not in errors:
            errors["exercise_checks"] = ValidationError(
                _("Checks need an exercise: write in the exercise what the learner's code should do."),
                code="checks_without_exercise",
            )
        if self.exercise_solution.strip() and not self.has_checks and "exercise_solution" not in errors:
            errors["exercise_solution"] = ValidationError(
                _("A reference solution needs checks: it is offered to a learner whose code fails them."),
                code="solution_without_checks",
            )
        if errors:
            raise ValidationError(errors)

    def render(self) -> None:
        """Store the lesson's HTML, table of contents and reading time, made from its Markdown."""
        # The HTML carries accessible names (heading anchors, code blocks): in the course's language.
        with translation.override(self.course.language):
            body = render_markdown(self.body)
            exercise = render_markdown(self.exercise)
            self.exercise_hints_html = [render_markdown(hint).html for hint in split_hints(self.exercise_hints)]
            solution = self.exercise_solution.strip("\n")
            # No title: the section that shows it is headed "Reference solution" in the reader's language.
            self.exercise_solution_html = render_code_block(solution, "python") if solution.strip() else ""
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


def lesson_address_exists(course_slug: str, lesson_slug: str) -> bool:
    """Whether /courses/<course_slug>/<lesson_slug>/ leads to a lesson, now or by a redirect."""
    return (
        Lesson.objects.filter(course__slug=course_slug, slug=lesson_slug).exists()
        or LessonRedirect.objects.filter(course_slug=course_slug, lesson_slug=lesson_slug).exists()
        or Lesson.objects.filter(course__redirects__slug=course_slug, slug=lesson_slug).exists()
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


class LessonRevision(models.Model):
    """One saved version of a lesson's content (``Lesson.content()``): never changed once written.

    Numbered 1, 2, … within its lesson. Restoring an old revision writes a new one with its content.
    """

    class Origin(models.TextChoices):
        ADMIN = "admin", _("Edited in the admin")
        IMPORT = "import", _("Imported from files")
        RESTORE = "restore", _("Restored")
        EXISTING = "existing", _("Text before revisions were kept")

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("lesson"))
    number = models.PositiveIntegerField(_("number"))
    content = models.JSONField(_("content"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    origin = models.CharField(_("origin"), max_length=20, choices=Origin, default=Origin.ADMIN)
    message = models.CharField(_("message"), max_length=200, blank=True)
    restored_from = models.PositiveIntegerField(_("restored from revision"), null=True, blank=True)
    created_at = models.DateTimeField(_("saved"), default=timezone.now)

    class Meta:
        ordering = ["lesson", "-number"]
        verbose_name = _("lesson revision")
        verbose_name_plural = _("lesson revisions")
        constraints = [
            models.UniqueConstraint(fields=["lesson", "number"], name="lesson_revision_unique_number"),
        ]

    def __str__(self) -> str:
        return _("%(lesson)s, revision %(number)d") % {"lesson": self.content.get("title", ""), "number": self.number}

    @property
    def saved_by(self) -> str:
        """Who saved it: the author's account, or where it came from (an import, the text kept before revisions)."""
        return str(self.author) if self.author_id else str(self.get_origin_display())


class LessonRedirect(models.Model):
    """A lesson's former address (its course's slug and its own then), kept when it moves so links do not break."""

    course_slug = models.CharField(max_length=100)
    lesson_slug = models.CharField(max_length=100)
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="redirects")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("former lesson address")
        verbose_name_plural = _("former lesson addresses")
        constraints = [
            models.UniqueConstraint(fields=["course_slug", "lesson_slug"], name="lesson_redirect_unique_address")
        ]

    def __str__(self) -> str:
        return f"/courses/{self.course_slug}/{self.lesson_slug}/"


class CourseRedirect(models.Model):
    """A course's former slug: its page and its lessons' pages under it redirect to the course's address now."""

    slug = models.CharField(max_length=100, unique=True)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="redirects")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("former course address")
        verbose_name_plural = _("former course addresses")

    def __str__(self) -> str:
        return f"/courses/{self.slug}/"


class LessonImage(models.Model):
    """An image uploaded for lessons (courses.images): checked, re-encoded, stored under its content's hash."""

    file = models.FileField(_("file"), max_length=200, unique=True)
    alt = models.CharField(
        _("alt text"), max_length=300, help_text=_("What the image shows, for those who cannot see it.")
    )
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size = models.PositiveIntegerField(_("size in bytes"))
    original_name = models.CharField(_("uploaded file name"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("lesson image")
        verbose_name_plural = _("lesson images")

    def __str__(self) -> str:
        return self.alt

    @property
    def markdown(self) -> str:
        """What an author writes in a lesson to show it."""
        return self.markdown_with(self.alt)

    def markdown_with(self, alt: str) -> str:
        """Its Markdown with ``alt`` as the description (one image may be described differently in two lessons)."""
        alt = alt.replace("[", "(").replace("]", ")")
        return f"![{alt}]({self.file.url})"


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
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
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
