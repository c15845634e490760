"""Import a course from a folder of Markdown files with YAML front matter.

The folder holds ``course.md`` (the course) and one ``.md`` file per lesson. Every file is
read and every value checked against the models' limits before anything is written; the
writes happen in one transaction. A problem is reported with the file's name and changes
nothing. Running the import again updates the course in place (matched by slugs).
"""

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q

from courses.exercises import join_hints, split_hints, validate_checks, validate_solution, validate_starter
from courses.lint import lint
from courses.models import (
    Course,
    Lesson,
    LessonLink,
    LessonRevision,
    Status,
    Tag,
    lesson_address_exists,
    tag_slug,
)
from courses.revisions import normal_text, same_content, save_revision

COURSE_FILE = "course.md"
# The longest demo lesson is about 15 KB. A lesson is rendered in one go on import and
# served as one page, so a file far beyond that is a mistake, not a lesson.
MAX_FILE_BYTES = 512 * 1024
# Every file is held in memory until the transaction commits: this bounds it (to 100 MB).
MAX_LESSONS = 200
LINK_SCHEMES = {"http", "https"}

COURSE_TEXT_KEYS = ("id", "title", "slug", "language", "status", "summary")
COURSE_NUMBER_KEYS = ("position",)
LESSON_TEXT_KEYS = ("id", "title", "slug", "status", "summary", "exercise", "starter", "checks", "solution")
LESSON_NUMBER_KEYS = ("position", "xp", "minutes", "exercise_xp")
COURSE_KEYS = {*COURSE_TEXT_KEYS, *COURSE_NUMBER_KEYS}
LESSON_KEYS = {*LESSON_TEXT_KEYS, *LESSON_NUMBER_KEYS, "tags", "links", "hints"}

# What a file may say of itself; "archived" is what the importer makes of a lesson whose file is gone.
FILE_STATUSES = (Status.DRAFT, Status.PUBLISHED)
MAX_ID_LENGTH = 100

# First key of the two-key advisory lock taken while a course is written ('cimp');
# the second key is a hash of the course's slug.
IMPORT_LOCK_CLASS = 0x63696D70


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
    front_matter: str = ""  # the YAML between the '---' lines, which begins on the file's line 2
    body_line: int = 1  # the file's line that holds the body's first line


@dataclass
class LessonPlan:
    """A lesson as it will be written: checked field values, tags (slug → name) and links."""

    path: Path
    fields: dict
    tags: dict[str, str]
    links: list[dict[str, str]]
    source_id: str = ""
    warnings: list[str] = field(default_factory=list)  # what the author should look at, with the file's line

    def content(self) -> dict:
        """The lesson's content as a revision keeps it (``Lesson.content()``)."""
        return {name: self.fields[name] for name in Lesson.CONTENT_FIELDS} | {"links": self.links}


@dataclass
class CoursePlan:
    path: Path
    fields: dict
    lessons: list[LessonPlan]
    source: str = ""  # the course.md's id, else "folder:" and the folder's name


@dataclass
class ImportResult:
    """What an import did, or, in a dry run, would do: lessons by slug (a rename as its old and new slug)."""

    course: Course
    dry_run: bool = False
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)  # archived lessons whose file is back: on the site again
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # "<file>: line N: …"


def _shorten(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _kind(value: object) -> str:
    """What YAML made of a value, in an author's words (never the value: it may be huge)."""
    match value:
        case str():
            return "text"
        case bool():
            return "true/false"
        case int():
            return "a negative number" if value < 0 else "a number"
        case float():
            return "a decimal number"
        case list():
            return "a list"
        case dict():
            return "a mapping"
        case datetime.date():
            return "a date"
        case _:
            return f"a YAML {type(value).__name__}"


def _text(path: Path, key: str, value: object) -> str:
    """``value`` if it is text PostgreSQL can store."""
    if not isinstance(value, str):
        raise CourseImportError(path, f"{key} must be text, not {_kind(value)}")
    if "\x00" in value:
        raise CourseImportError(path, f"{key} contains a NUL character")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise CourseImportError(
            path, f"{key} contains a character that is not valid Unicode (a lone surrogate such as \\ud800)"
        ) from None
    return value


def _check(instance: models.Model, path: Path, label: str = "", exclude: list[str] | None = None) -> None:
    """The model's own field validation (lengths, number ranges, slugs, choices, URLs)."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        problems = "; ".join(
            f"{name}: {' '.join(str(message).rstrip('.') for message in messages)}"
            for name, messages in error.message_dict.items()
        )
        raise CourseImportError(path, f"{label}{problems}") from None


def _resolve(path: Path, root: Path) -> Path:
    """The file ``path`` names: a regular file inside ``root``, through symlinks that stay inside."""
    if path.is_symlink():
        target = os.readlink(path)
        if not path.exists():
            raise CourseImportError(path, f"is a symbolic link to {target}, which leads to no file")
        if not Path(os.path.realpath(path)).is_relative_to(root):
            raise CourseImportError(
                path,
                f"is a symbolic link to {target}, outside the course folder; only links to files inside it are read",
            )
    if path.is_dir():
        raise CourseImportError(path, "is a folder, not a Markdown file")
    if not path.is_file():
        raise CourseImportError(path, "is not a regular file")
    return path


def _read_text(path: Path) -> str:
    try:
        if (size := path.stat().st_size) > MAX_FILE_BYTES:
            raise CourseImportError(
                path,
                f"is {size:,} bytes; a course file may be at most "
                f"{MAX_FILE_BYTES:,} bytes ({MAX_FILE_BYTES // 1024} KB)",
            )
        data = path.read_bytes()
    except OSError as error:
        raise CourseImportError(path, f"cannot be read ({error.strerror})") from None
    try:
        # utf-8-sig: a byte order mark some editors write at the start is dropped.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CourseImportError(path, f"is not UTF-8 text (line {data.count(b'\n', 0, error.start) + 1})") from None
    if "\x00" in text:
        raise CourseImportError(
            path, f"contains a NUL character on line {text.count('\n', 0, text.index('\x00')) + 1}"
        )
    return text


def read_markdown_file(path: Path, allowed_keys: set[str]) -> ParsedFile:
    lines = _read_text(path).splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise CourseImportError(path, "must start with a front matter block between '---' lines")
    try:
        # At the start of a line: an indented --- belongs to a block of text (a rule in an exercise, say).
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.rstrip() == "---")
    except StopIteration:
        raise CourseImportError(path, "the front matter block is not closed with '---'") from None
    try:
        meta = yaml.safe_load("".join(lines[1:end])) or {}
    # PyYAML lets Python's own errors through for some values (dates like 2024-13-45,
    # integers of over 4,300 digits) and for deep nesting.
    except yaml.YAMLError as error:
        raise CourseImportError(path, f"invalid YAML front matter: {error}") from None
    except ValueError as error:
        raise CourseImportError(
            path, f"invalid YAML front matter: {error} (quote a value to keep it as text)"
        ) from None
    except RecursionError:
        raise CourseImportError(path, "invalid YAML front matter: it is nested too deeply") from None
    if not isinstance(meta, dict):
        raise CourseImportError(path, "the front matter must be a mapping of keys to values")
    if unknown := set(meta) - allowed_keys:
        names = sorted(key[:40] if isinstance(key, str) else _kind(key) for key in unknown)
        raise CourseImportError(path, f"unknown front matter keys: {', '.join(names)}")
    # A key written with no value is a key left out.
    meta = {key: value for key, value in meta.items() if value is not None}
    for key in allowed_keys & {*COURSE_TEXT_KEYS, *LESSON_TEXT_KEYS}:
        if key in meta:
            _text(path, f"'{key}'", meta[key])
    for key in ("title", "slug"):
        if not meta.get(key, "").strip():
            raise CourseImportError(path, f"'{key}' is required")
    if meta.get("status", Status.PUBLISHED) not in FILE_STATUSES:
        raise CourseImportError(path, f"'status' must be one of {', '.join(FILE_STATUSES)}")
    if len(meta.get("id", "")) > MAX_ID_LENGTH:
        raise CourseImportError(path, f"'id' may be at most {MAX_ID_LENGTH} characters")
    for key in allowed_keys & {*COURSE_NUMBER_KEYS, *LESSON_NUMBER_KEYS}:
        if key in meta and (not isinstance(meta[key], int) or isinstance(meta[key], bool) or meta[key] < 0):
            raise CourseImportError(path, f"'{key}' must be a whole number of 0 or more, not {_kind(meta[key])}")
    return ParsedFile(
        path=path,
        meta=meta,
        body="".join(lines[end + 1 :]).strip() + "\n",
        front_matter="".join(lines[1:end]),
        body_line=end + 2 + next((i for i, line in enumerate(lines[end + 1 :]) if line.strip()), 0),
    )


def _links(parsed: ParsedFile) -> list[dict[str, str]]:
    links = parsed.meta.get("links", [])
    if not isinstance(links, list) or not all(
        isinstance(link, dict) and set(link) == {"title", "url"} for link in links
    ):
        raise CourseImportError(parsed.path, "'links' must be a list of entries with a 'title' and a 'url'")
    checked = []
    for number, link in enumerate(links, start=1):
        title = _text(parsed.path, f"link {number}: 'title'", link["title"])
        url = _text(parsed.path, f"link {number}: 'url'", link["url"])
        if urlsplit(url).scheme.lower() not in LINK_SCHEMES:
            raise CourseImportError(
                parsed.path, f"link {number}: the url {_shorten(url)} must start with http:// or https://"
            )
        _check(LessonLink(title=title, url=url), parsed.path, f"link {number}: ", exclude=["lesson"])
        checked.append({"title": title, "url": url})
    return checked


def _tags(parsed: ParsedFile) -> dict[str, str]:
    """The lesson's tags, slug → name: a tag is known by its slug, so AsyncIO and asyncio are one tag."""
    names = parsed.meta.get("tags", [])
    if not isinstance(names, list):
        raise CourseImportError(parsed.path, f"'tags' must be a list of names, not {_kind(names)}")
    tags: dict[str, str] = {}
    for number, name in enumerate(names, start=1):
        if not isinstance(name, str):
            raise CourseImportError(
                parsed.path, f"'tags' must be a list of names, and entry {number} is {_kind(name)}"
            )
        name = _text(parsed.path, "'tags'", name).strip()
        if not (slug := tag_slug(name)):
            raise CourseImportError(parsed.path, f"tag {_shorten(name)} has no letters or digits")
        _check(Tag(name=name, slug=slug), parsed.path, f"tag {_shorten(name)}: ")
        _same_tag(parsed.path, slug, tags.setdefault(slug, name), name)
    return tags


def _same_tag(path: Path, slug: str, known: str, name: str) -> None:
    """Names with one address are one tag only if they differ in case alone ("asyncio", "AsyncIO")."""
    if known.casefold() != name.casefold():
        raise CourseImportError(
            path, f"the tags {_shorten(known)} and {_shorten(name)} would share one page, /tags/{slug}/: rename one"
        )


def _file_line(parsed: ParsedFile, key: str, line: int) -> int | None:
    """The file's line that holds line ``line`` of the value of ``key``, if it is a literal block (``key: |``).

    Other YAML styles fold or join lines, so their lines are not the file's.
    """
    try:
        root = yaml.compose(parsed.front_matter, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    for key_node, value_node in root.value:
        if key_node.value == key and isinstance(value_node, yaml.ScalarNode) and value_node.style == "|":
            # The block's text starts on the line after "key: |"; the front matter on the file's line 2.
            return value_node.start_mark.line + line + 2
    return None


def _exercise_code(parsed: ParsedFile) -> None:
    """``starter`` and ``checks`` as ``Lesson.clean()`` checks them (``courses.exercises``), said with the front
    matter's names and, for a ``key: |`` block, the file's line."""
    meta = parsed.meta
    for key, validate in (("starter", validate_starter), ("checks", validate_checks), ("solution", validate_solution)):
        if not meta.get(key, "").strip():
            continue
        try:
            validate(meta[key])
        except ValidationError as error:
            problem = error.messages[0].rstrip(".")
            line = (error.error_list[0].params or {}).get("line")
            if line is not None and (file_line := _file_line(parsed, key, line)) is not None:
                problem += f" (line {file_line} of the file)"
            raise CourseImportError(parsed.path, f"'{key}': {problem}") from None
    if meta.get("checks", "").strip() and not meta.get("exercise", "").strip():
        raise CourseImportError(
            parsed.path, "'checks' need an 'exercise': write in it what the learner's code should do"
        )
    if meta.get("solution", "").strip() and not meta.get("checks", "").strip():
        raise CourseImportError(
            parsed.path, "a 'solution' needs 'checks': it is offered to a learner whose code fails them"
        )


def _hints(parsed: ParsedFile) -> str:
    """The front matter's ``hints``, a list of Markdown texts, as ``Lesson.exercise_hints`` keeps them."""
    hints = parsed.meta.get("hints", [])
    if not isinstance(hints, list) or not all(isinstance(hint, str) and hint.strip() for hint in hints):
        raise CourseImportError(parsed.path, "'hints' must be a list of texts (Markdown), one per hint")
    for number, hint in enumerate(hints, start=1):
        _text(parsed.path, f"hint {number}", hint)
        if len(split_hints(hint)) != 1:
            raise CourseImportError(
                parsed.path, f"hint {number} holds a line of only ---, which would split it in two; remove the line"
            )
    return join_hints(hints)


def _lint(parsed: ParsedFile, fields: dict, *, lesson_exists) -> list[str]:
    """Refuse the lesson for an error in its Markdown, naming the file's line; its warnings, to print."""
    warnings = []
    for key in Lesson.MARKDOWN_FIELDS:
        for problem in lint(fields[key], lesson_exists=lesson_exists):
            line = parsed.body_line + problem.line - 1 if key == "body" else _file_line(parsed, key, problem.line)
            name = {"exercise_hints": "hints"}.get(key, key)  # the front matter's name
            where = f"line {line}" if line is not None else f"'{name}', its line {problem.line}"
            if problem.error:
                raise CourseImportError(parsed.path, f"{where}: {problem.message.rstrip('.')}")
            warnings.append(f"{where}: {problem.message}")
    return warnings


def _lesson_files(directory: Path) -> list[Path]:
    """The lesson files: every ``*.md`` but course.md; dotfiles (editor and lock files) are ignored."""
    try:
        names = sorted(
            entry.name
            for entry in os.scandir(directory)
            if entry.name.endswith(".md") and not entry.name.startswith(".") and entry.name != COURSE_FILE
        )
    except OSError as error:
        raise CourseImportError(directory, f"cannot be read ({error.strerror})") from None
    if len(names) > MAX_LESSONS:
        raise CourseImportError(directory, f"holds {len(names)} lesson files; a course may have at most {MAX_LESSONS}")
    return [directory / name for name in names]


def read_course_folder(directory: Path) -> CoursePlan:
    """Read and check every file of the course in ``directory``; nothing is written."""
    root = Path(os.path.realpath(directory))
    course_path = directory / COURSE_FILE
    if not course_path.exists() and not course_path.is_symlink():
        raise CourseImportError(course_path, "is missing: every course folder needs a course.md")
    course_file = read_markdown_file(_resolve(course_path, root), COURSE_KEYS)
    meta = course_file.meta
    language = meta.get("language", Course._meta.get_field("language").get_default())
    if language not in dict(Course._meta.get_field("language").choices):
        raise CourseImportError(
            course_path, f"'language' must be a language code Django knows, such as en or ko, not {_shorten(language)}"
        )
    course_fields = {
        "source": meta.get("id") or f"folder:{Path(os.path.abspath(directory)).name}"[:200],
        "slug": meta["slug"],
        "title": meta["title"],
        "summary": meta.get("summary", ""),
        "language": language,
        "description": course_file.body,
        "position": meta.get("position", 0),
        "status": meta.get("status", Status.PUBLISHED),
    }
    _check(Course(**course_fields), course_path)

    lessons: list[LessonPlan] = []
    seen_slugs: dict[str, Path] = {}
    seen_positions: dict[int, Path] = {}
    seen_ids: dict[str, Path] = {}
    parsed_files: list[ParsedFile] = []
    for index, path in enumerate(_lesson_files(directory), start=1):
        parsed = read_markdown_file(_resolve(path, root), LESSON_KEYS)
        meta = parsed.meta
        lesson_fields = {
            "slug": meta["slug"],
            "title": meta["title"],
            "position": meta.get("position", index),
            "status": meta.get("status", Status.PUBLISHED),
            "xp": meta.get("xp", Lesson._meta.get_field("xp").get_default()),
            "summary": meta.get("summary", ""),
            "minutes": meta.get("minutes"),
            "exercise": meta.get("exercise", ""),
            "exercise_starter": meta.get("starter", ""),
            "exercise_checks": meta.get("checks", ""),
            "exercise_xp": meta.get("exercise_xp", Lesson._meta.get_field("exercise_xp").get_default()),
            "exercise_hints": _hints(parsed),
            "exercise_solution": meta.get("solution", ""),
            "body": parsed.body,
        }
        _exercise_code(parsed)
        _check(Lesson(**lesson_fields), path, exclude=["course"])
        for seen, key in ((seen_slugs, "slug"), (seen_positions, "position")):
            if (value := lesson_fields[key]) in seen:
                raise CourseImportError(path, f"{key} {value!r} is also used by {seen[value].name}")
            seen[value] = path
        if (source_id := meta.get("id", "")) in seen_ids and source_id:
            raise CourseImportError(path, f"id {source_id!r} is also used by {seen_ids[source_id].name}")
        seen_ids[source_id] = path
        lessons.append(
            LessonPlan(path=path, fields=lesson_fields, tags=_tags(parsed), links=_links(parsed), source_id=source_id)
        )
        parsed_files.append(parsed)
    # Links between lessons are checked once every lesson of the folder is known.
    slugs = {lesson.fields["slug"] for lesson in lessons}

    def lesson_exists(course: str, lesson: str) -> bool:
        return (course == course_fields["slug"] and lesson in slugs) or lesson_address_exists(course, lesson)

    for parsed, lesson in zip(parsed_files, lessons, strict=True):
        lesson.warnings = _lint(parsed, lesson.fields, lesson_exists=lesson_exists)
    return CoursePlan(path=course_path, fields=course_fields, lessons=lessons, source=course_fields.pop("source"))


def _tags_by_slug(plan: CoursePlan) -> dict[str, Tag]:
    """Every tag the course's lessons name: found by slug, else by name (an admin may have
    given it a slug of its own, and names are unique too), else created.

    Created in slug order, so two imports that create the same tags wait for each other
    instead of deadlocking.
    """
    wanted: dict[str, str] = {}
    for lesson in plan.lessons:
        for slug, name in lesson.tags.items():
            _same_tag(lesson.path, slug, wanted.setdefault(slug, name), name)
    existing = list(Tag.objects.filter(Q(slug__in=wanted) | Q(name__in=wanted.values())))
    by_slug = {tag.slug: tag for tag in existing}
    by_name = {tag.name: tag for tag in existing}
    for slug, tag in by_slug.items():
        if slug in wanted:
            _same_tag(plan.path, slug, tag.name, wanted[slug])
    return {
        slug: by_slug.get(slug)
        or by_name.get(wanted[slug])
        or Tag.objects.get_or_create(slug=slug, defaults={"name": wanted[slug]})[0]
        for slug in sorted(wanted)
    }


def _match(plan: CoursePlan, lessons: list[Lesson]) -> dict[int, Lesson]:
    """Which of the course's lessons each file is, by index of the file in the plan.

    First by the file's ``id:``, then by slug, then, for a file and a lesson both left over, by the same body
    (a file renamed along with its slug, its text untouched). A lesson with an id is never taken by a file with
    another id.
    """
    matched: dict[int, Lesson] = {}
    taken: set[int] = set()

    def take(index: int, lesson: Lesson) -> None:
        matched[index] = lesson
        taken.add(lesson.pk)

    by_id = {lesson.source_id: lesson for lesson in lessons if lesson.source_id}
    for index, lesson_plan in enumerate(plan.lessons):
        if lesson_plan.source_id and (lesson := by_id.get(lesson_plan.source_id)) is not None:
            take(index, lesson)
    by_slug = {lesson.slug: lesson for lesson in lessons}
    for index, lesson_plan in enumerate(plan.lessons):
        lesson = by_slug.get(lesson_plan.fields["slug"])
        if index in matched or lesson is None or lesson.pk in taken:
            continue
        if not (lesson.source_id and lesson_plan.source_id and lesson.source_id != lesson_plan.source_id):
            take(index, lesson)
    left = [lesson for lesson in lessons if lesson.pk not in taken and not lesson.source_id]
    for index, lesson_plan in enumerate(plan.lessons):
        if index in matched or lesson_plan.source_id:
            continue
        body = normal_text(lesson_plan.fields["body"])
        same = [lesson for lesson in left if lesson.pk not in taken and normal_text(lesson.body) == body]
        if len(same) == 1:
            take(index, same[0])
    return matched


@transaction.atomic
def _write(plan: CoursePlan, *, merge: bool = False) -> ImportResult:
    """Write a checked course. Holds an advisory lock on the course's slug until commit,
    so a second import of the same course waits, then finds the first one's rows and
    updates them (instead of failing on the unique slug).

    Lessons keep their rows (and so their learners' completions, comments, reports) across renames; a
    lesson whose file is gone is archived, never deleted, and moves after the course's other lessons.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [IMPORT_LOCK_CLASS, plan.fields["slug"]])
    course = Course.objects.filter(slug=plan.fields["slug"]).first() or Course()
    if course.pk and course.source and course.source != plan.source and not merge:
        raise CourseImportError(
            plan.path,
            f"the course {course.slug!r} on the site was imported from another source ({course.source}; this "
            f"folder is {plan.source}). Give this course another slug, or run again with --merge to update that "
            "course from this folder",
        )
    for name, value in plan.fields.items():
        setattr(course, name, value)
    course.source = plan.source
    course.save()
    result = ImportResult(
        course=course,
        warnings=[f"{lesson.path.name}: {warning}" for lesson in plan.lessons for warning in lesson.warnings],
    )

    tags = _tags_by_slug(plan)
    lessons = list(course.lessons.prefetch_related("links").order_by("position"))
    matched = _match(plan, lessons)
    # Slugs can pass from one lesson to another in one import (a swap): moving lessons step aside first.
    moving = {index: lesson for index, lesson in matched.items() if lesson.slug != plan.lessons[index].fields["slug"]}
    for lesson in moving.values():
        lesson.moved_from = (course.slug, lesson.slug)
        Lesson.objects.filter(pk=lesson.pk).update(slug=f"moving-{lesson.pk}")
    last_position = max((lesson_plan.fields["position"] for lesson_plan in plan.lessons), default=0)
    kept = {lesson.pk for lesson in matched.values()}
    for lesson in lessons:
        if lesson.pk in kept:
            continue
        # Out of the way of the files' positions, in the order they had.
        last_position += 1
        lesson.position = last_position
        if lesson.status != Status.ARCHIVED:
            lesson.status = Status.ARCHIVED
            result.archived.append(lesson.slug)
        lesson.save(update_fields={"position", "status", "updated_at"})

    for index, lesson_plan in enumerate(plan.lessons):
        lesson = matched.get(index) or Lesson(course=course)
        content = lesson_plan.content()
        slug = lesson_plan.fields["slug"]
        changed = lesson.pk is None or lesson.revision_id is None or not same_content(lesson.content(), content)
        if (
            lesson.pk is not None
            and lesson.status == Status.ARCHIVED
            and lesson_plan.fields["status"] != Status.ARCHIVED
        ):
            result.restored.append(slug)
        if lesson.pk is None:
            result.created.append(slug)
        elif index in moving:
            result.renamed.append((moving[index].moved_from[1], slug))
        elif changed:
            result.changed.append(slug)
        else:
            result.unchanged.append(slug)
        for name, value in lesson_plan.fields.items():
            setattr(lesson, name, value)
        lesson.source_id = lesson_plan.source_id
        lesson.save()
        lesson.tags.set([tags[tag_slug] for tag_slug in lesson_plan.tags])
        if changed:
            # The import is the deliberate act: what the file says is what learners read, as a new revision.
            save_revision(lesson=lesson, content=content, origin=LessonRevision.Origin.IMPORT, publish=True)
    try:
        # Lesson positions are checked at commit (a deferred constraint, so lessons can swap);
        # check them now, so a clash is reported like any other problem.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS lesson_unique_position_in_course IMMEDIATE")
            cursor.execute("SET CONSTRAINTS lesson_unique_position_in_course DEFERRED")
    except IntegrityError as error:
        raise CourseImportError(plan.path, f"lesson positions clash ({error})") from None
    return result


def import_course(*, directory: Path, dry_run: bool = False, merge: bool = False) -> ImportResult:
    """Create or update the course in ``directory`` and its lessons, all or nothing.

    A dry run does all of it in a transaction that is then rolled back: its result is what a real import
    would do now, and nothing is changed.
    """
    plan = read_course_folder(directory)
    with transaction.atomic():
        result = _write(plan, merge=merge)
        if dry_run:
            result.dry_run = True
            transaction.set_rollback(True)
    return result
