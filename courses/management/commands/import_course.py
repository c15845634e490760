from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, no_translations

from courses.importer import CourseImportError, import_course


class Command(BaseCommand):
    help = "Create or update a course from a folder of Markdown files with front matter."

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path, help="Folder with course.md and one .md file per lesson.")

    # The command is for authors and speaks English, whatever language is active
    # (Django's own validation messages would otherwise follow it).
    @no_translations
    def handle(self, *args, directory: Path, **options) -> None:
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder.")
        try:
            result = import_course(directory=directory)
        except CourseImportError as error:
            raise CommandError(f"{error.path}: {error.problem}. Nothing was changed.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported “{result.course.title}”: lessons created: {len(result.created)}, "
                f"updated: {len(result.updated)}."
            )
        )
