"""Import a course from a folder of Markdown files with YAML front matter.

The folder holds ``course.md`` (the course) and one file per lesson. Every file is
read and validated before anything is written, and the writes happen in one
transaction: a malformed file is reported with its name and changes nothing.
Running the import again updates the course in place (matched by slugs).
"""

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.text import slugify

from courses.models import Course, Lesson, LessonLink, Status, Tag

COURSE_FILE = "course.md"
COURSE_KEYS = {"title", "slug", "position", "status", "summary"}
LESSON_KEYS = {"title", "slug", "position", "status", "xp", "tags", "summary", "minutes", "links", "exercise"}


class CourseImportError(Exception):
    def __init__(self, path: Path, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{path.name}: {problem}")


@dataclass
class ParsedFile:
    path: Path
    meta: dict
    body: str


@dataclass
class ImportResult:
    course: Course
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def read_markdown_file(path: Path, allowed_keys: set[str]) -> ParsedFile:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CourseImportError(path, "is not UTF-8 text") from None
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise CourseImportError(path, "must start with a front matter block between '---' lines")
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise CourseImportError(path, "the front matter block is not closed with '---'") from None
    try:
        meta = yaml.safe_load("".join(lines[1:end])) or {}
    except yaml.YAMLError as error:
        raise CourseImportError(path, f"invalid YAML front matter: {error}") from None
    if not isinstance(meta, dict):
        raise CourseImportError(path, "the front matter must be a mapping of keys to values")
    if unknown := set(meta) - allowed_keys:
        raise CourseImportError(path, f"unknown front matter keys: {', '.join(sorted(map(str, unknown)))}")
    for key in ("title", "slug"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise CourseImportError(path, f"'{key}' is required and must be text")
    if meta.get("status", Status.PUBLISHED) not in Status.values:
        raise CourseImportError(path, f"'status' must be one of {', '.join(Status.values)}")
    for key in ("position", "xp", "minutes"):
        if key in meta and (not isinstance(meta[key], int) or isinstance(meta[key], bool) or meta[key] < 0):
            raise CourseImportError(path, f"'{key}' must be a whole number, not {meta[key]!r}")
    return ParsedFile(path=path, meta=meta, body="".join(lines[end + 1 :]).strip() + "\n")


def _links(parsed: ParsedFile) -> list[dict]:
    links = parsed.meta.get("links") or []
    if not isinstance(links, list) or not all(
        isinstance(link, dict) and set(link) == {"title", "url"} for link in links
    ):
        raise CourseImportError(parsed.path, "'links' must be a list of entries with a 'title' and a 'url'")
    return links


def _tags(parsed: ParsedFile) -> list[str]:
    tags = parsed.meta.get("tags") or []
    if not isinstance(tags, list) or not all(
        isinstance(tag, str) and slugify(tag, allow_unicode=True) for tag in tags
    ):
        raise CourseImportError(parsed.path, "'tags' must be a list of names with letters or digits")
    return [tag.strip() for tag in tags]


def _check(instance, parsed: ParsedFile, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        problems = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
        raise CourseImportError(parsed.path, problems) from None


def read_course_folder(directory: Path) -> tuple[ParsedFile, list[ParsedFile]]:
    course_path = directory / COURSE_FILE
    if not course_path.is_file():
        raise CourseImportError(course_path, "is missing: every course folder needs a course.md")
    course = read_markdown_file(course_path, COURSE_KEYS)
    lessons = [
        read_markdown_file(path, LESSON_KEYS) for path in sorted(directory.glob("*.md")) if path.name != COURSE_FILE
    ]
    seen_slugs: dict[str, Path] = {}
    seen_positions: dict[int, Path] = {}
    for index, lesson in enumerate(lessons, start=1):
        lesson.meta.setdefault("position", index)
        for seen, key in ((seen_slugs, "slug"), (seen_positions, "position")):
            if (value := lesson.meta[key]) in seen:
                raise CourseImportError(lesson.path, f"{key} {value!r} is also used by {seen[value].name}")
            seen[value] = lesson.path
        lesson.meta["links"] = _links(lesson)
        lesson.meta["tags"] = _tags(lesson)
    return course, lessons


@transaction.atomic
def import_course(directory: Path) -> ImportResult:
    """Create or update the course in ``directory`` and its lessons, all or nothing."""
    course_file, lesson_files = read_course_folder(directory)
    meta = course_file.meta
    course = Course.objects.filter(slug=meta["slug"]).first() or Course(slug=meta["slug"])
    course.title = meta["title"]
    course.summary = meta.get("summary", "")
    course.description = course_file.body
    course.position = meta.get("position", 0)
    course.status = meta.get("status", Status.PUBLISHED)
    _check(course, course_file)
    course.save()
    result = ImportResult(course=course)

    existing = {lesson.slug: lesson for lesson in course.lessons.all()}
    tags: dict[str, Tag] = {}
    for parsed in lesson_files:
        meta = parsed.meta
        lesson = existing.get(meta["slug"]) or Lesson(course=course, slug=meta["slug"])
        (result.updated if lesson.pk else result.created).append(meta["slug"])
        lesson.title = meta["title"]
        lesson.position = meta["position"]
        lesson.status = meta.get("status", Status.PUBLISHED)
        lesson.xp = meta.get("xp", 10)
        lesson.summary = meta.get("summary", "")
        lesson.minutes = meta.get("minutes")
        lesson.exercise = meta.get("exercise", "")
        lesson.body = parsed.body
        _check(lesson, parsed, exclude=["course"])
        lesson.save()
        lesson_tags = []
        for name in meta["tags"]:
            slug = slugify(name, allow_unicode=True)
            if slug not in tags:
                tags[slug], _ = Tag.objects.get_or_create(slug=slug, defaults={"name": name})
            lesson_tags.append(tags[slug])
        lesson.tags.set(lesson_tags)
        lesson.links.all().delete()
        for position, link in enumerate(meta["links"]):
            link_object = LessonLink(lesson=lesson, position=position, **link)
            _check(link_object, parsed, exclude=["lesson"])
            link_object.save()
    try:
        # Lesson positions are checked at commit (a deferred constraint, so lessons can swap);
        # check them now, so a clash is reported like any other problem.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS lesson_unique_position_in_course IMMEDIATE")
            cursor.execute("SET CONSTRAINTS lesson_unique_position_in_course DEFERRED")
    except IntegrityError as error:
        raise CourseImportError(
            directory / COURSE_FILE, f"lesson positions clash with lessons that are not in the folder ({error})"
        ) from None
    return result
