"""Django's collectstatic, with ``--if-changed``: nothing to do when no static file changed since the last run.

Collecting compresses every file again (seconds), which `make serve` and `make cluster` did at every start.
With ``--if-changed`` the inputs (each file the finders find: its path, size and modification time, and the
storage that collects them) are compared with those the last collect recorded beside STATIC_ROOT; when they
are the same and STATIC_ROOT still holds the manifest, the command says so and stops.
"""

import hashlib
import importlib.util
import inspect
import json
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.management.commands import collectstatic
from django.core.files.storage import storages


def inputs_fingerprint(ignore_patterns: list[str]) -> str:
    """The static files' paths, sizes and times, the storage's settings and code, and whether Brotli is there."""
    digest = hashlib.sha256(json.dumps(settings.STORAGES["staticfiles"], sort_keys=True).encode())
    storage_code = Path(inspect.getfile(type(storages["staticfiles"])))
    brotli = importlib.util.find_spec("brotli") is not None  # WhiteNoise writes .br files only with it
    entries = [f"{storage_code}\0{storage_code.stat().st_mtime_ns}\0{brotli}"]
    for finder in finders.get_finders():
        for path, storage in finder.list(ignore_patterns):
            stat = Path(storage.path(path)).stat()
            prefix = getattr(storage, "prefix", None) or ""
            entries.append(f"{prefix}/{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode() + b"\n")
    return digest.hexdigest()


def record_path() -> Path:
    """Beside STATIC_ROOT, not in it: nothing there is served."""
    root = Path(settings.STATIC_ROOT)
    return root.with_name(f".{root.name}.inputs")


class Command(collectstatic.Command):
    help = collectstatic.Command.help + " With --if-changed, only when a static file changed since the last run."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--if-changed",
            action="store_true",
            help="Do nothing when no static file changed since the last collect into STATIC_ROOT.",
        )

    def handle(self, **options):
        if not options["if_changed"] or options["dry_run"]:
            return super().handle(**options)
        default = apps.get_app_config("staticfiles").ignore_patterns if options["use_default_ignore_patterns"] else []
        ignore = [*options["ignore_patterns"], *default]
        fingerprint = inputs_fingerprint(ignore)
        record = record_path()
        manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
        if manifest.exists() and record.exists() and record.read_text() == fingerprint:
            if options["verbosity"] >= 1:
                self.stdout.write("Static files unchanged since the last collect: nothing to do.")
            return ""
        record.unlink(missing_ok=True)  # a collect that fails half-way must not be taken for a finished one
        result = super().handle(**options)
        record.write_text(fingerprint)
        return result
