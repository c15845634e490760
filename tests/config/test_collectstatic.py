"""collectstatic --if-changed: a start with no static file changed skips the seconds of compressing them again."""

import io
import os
import re
import time
from pathlib import Path

import pytest
from django.core.management import call_command


@pytest.fixture
def static(settings, tmp_path):
    """One stylesheet, found by the file system finder alone, collected into a STATIC_ROOT of its own."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "site.css").write_text("body { color: black; }\n" * 50)
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "config.storage.StaticFilesStorage"}}
    return source, tmp_path / "collected"


def collect() -> str:
    output = io.StringIO()
    call_command("collectstatic", "--no-input", "--if-changed", stdout=output)
    return output.getvalue()


def hashed_stylesheets(root) -> list[str]:
    return sorted(path.name for path in root.glob("site.*.css"))


def test_a_second_collect_with_nothing_changed_does_nothing(static):
    _source, root = static
    assert "1 static file copied" in collect()
    assert len(hashed_stylesheets(root)) == 1
    [hashed] = hashed_stylesheets(root)
    assert (root / f"{hashed}.gz").exists() and (root / f"{hashed}.br").exists(), "Brotli with the runtime alone"
    assert collect() == "Static files unchanged since the last collect: nothing to do.\n"


def test_a_changed_file_or_a_lost_manifest_is_collected_again(static):
    source, root = static
    collect()
    (source / "site.css").write_text("body { color: navy; }\n")
    later = time.time() + 5
    os.utime(source / "site.css", (later, later))
    assert "1 static file copied" in collect()
    assert len(hashed_stylesheets(root)) == 2, "the new stylesheet's hashed copy"
    (root / "staticfiles.json").unlink()
    assert "Static files unchanged" not in collect()
    assert (root / "staticfiles.json").exists()
    (source / "extra.css").write_text("p { margin: 0; }\n")
    assert "Static files unchanged" not in collect()
    assert len(list(root.glob("extra.*.css"))) == 1


def test_brotli_comes_with_the_runtime_requirements_not_only_the_tests():
    """make serve installs requirements.txt alone: without Brotli there, its visitors would get gzip only."""
    runtime = (Path(__file__).resolve().parents[2] / "requirements.txt").read_text()
    assert re.search(r"^brotli==", runtime, re.MULTILINE | re.IGNORECASE)
