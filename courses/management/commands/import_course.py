from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, no_translations

from courses.importer import CourseImportError, ImportResult, import_course


class Command(BaseCommand):
    help = (
        "Create or update a course from a folder of Markdown files with front matter. Prints what it does to each "
        "lesson: created, changed, renamed, archived (its file is gone) or unchanged."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path, help="Folder with course.md and one .md file per lesson.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what the import would do, and change nothing."
        )
        parser.add_argument(
            "--merge",
            action="store_true",
            help="Update a course of the same slug that was imported from another folder (or another course.md id).",
        )

    # The command is for authors and speaks English, whatever language is active
    # (Django's own validation messages would otherwise follow it).
    @no_translations
    def handle(self, *args, directory: Path, dry_run: bool, merge: bool, **options) -> None:
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder.")
        try:
            result = import_course(directory=directory, dry_run=dry_run, merge=merge)
        except CourseImportError as error:
            raise CommandError(f"{error.path}: {error.problem}. Nothing was changed.") from None
        self.stdout.write(self.plan(result))

    def plan(self, result: ImportResult) -> str:
        counts = {
            "created": len(result.created),
            "changed": len(result.changed),
            "renamed": len(result.renamed),
            "archived": len(result.archived),
            "restored": len(result.restored),
            "unchanged": len(result.unchanged),
        }
        summary = ", ".join(f"{what}: {count}" for what, count in counts.items())
        head = (
            f"Dry run of “{result.course.title}” (nothing was changed): lessons {summary}."
            if result.dry_run
            else f"Imported “{result.course.title}”: lessons {summary}."
        )
        lines = [self.style.WARNING(head) if result.dry_run else self.style.SUCCESS(head)]
        for what, slugs in (("created", result.created), ("changed", result.changed)):
            lines += [f"  {what}: {slug}" for slug in slugs]
        lines += [f"  renamed: {old} → {new} (the old address redirects)" for old, new in result.renamed]
        lines += [f"  archived: {slug} (its file is gone; off the site, its learners' records kept)" for slug in
                  result.archived]  # fmt: skip
        lines += [f"  restored: {slug} (its file is back: the archived lesson returns as the file says)" for slug in
                  result.restored]  # fmt: skip
        lines += [self.style.WARNING(f"  warning: {warning}") for warning in result.warnings]
        return "\n".join(lines)
