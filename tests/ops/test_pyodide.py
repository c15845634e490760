"""ops/pyodide.py, which `make install` runs: the pinned npm package of Pyodide, checked, extracted for the browser.

A small fake tarball stands in for the real one (the pinned integrity is patched to match it), and neither npm nor
the download reaches the network: npm is a script on PATH, the download writes the fake tarball.
"""

import base64
import hashlib
import io
import stat
import tarfile
from pathlib import Path

import pytest

from config import checks
from ops import pyodide

# The package's files as the fake tarball holds them: the served ones and some that are not.
CONTENTS = {name: f"the bytes of {name}\n".encode() for name in pyodide.FILES}
NOT_SERVED = {"console.html": b"<!doctype html>", "pyodide.d.ts": b"export {}", "pyodide.js": b"// CommonJS"}


def make_tarball(path: Path, files: dict[str, bytes]) -> str:
    """A tarball laid out as npm packs one (everything under package/); returns its npm integrity."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(f"package/{name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return "sha512-" + base64.b64encode(hashlib.sha512(buffer.getvalue()).digest()).decode()


@pytest.fixture
def package(tmp_path, monkeypatch) -> Path:
    """The fake pyodide-VERSION.tgz, whose integrity is now the pinned one."""
    path = tmp_path / "registry" / f"pyodide-{pyodide.VERSION}.tgz"
    path.parent.mkdir()
    monkeypatch.setattr(pyodide, "INTEGRITY", make_tarball(path, CONTENTS | NOT_SERVED))
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "https://registry.invalid/npm/")
    return path


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def no_npm(tmp_path, monkeypatch) -> None:
    empty = tmp_path / "bin-without-npm"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture
def fake_npm(tmp_path, monkeypatch, package) -> Path:
    """An npm on PATH whose `pack pyodide@VERSION --json --pack-destination DIR` copies the fake tarball to DIR.

    Each call is logged in calls.log beside it."""
    folder = tmp_path / "bin"
    folder.mkdir()
    npm = folder / "npm"
    npm.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {folder}/calls.log\n'
        f'[ "$1 $2 $3 $4" = "pack pyodide@{pyodide.VERSION} --json --pack-destination" ] || exit 1\n'
        f'cp {package} "$5/{package.name}"\n'
        f'echo \'[{{"filename": "{package.name}"}}]\'\n'
    )
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    return folder / "calls.log"


@pytest.fixture
def downloads(monkeypatch, package) -> list[str]:
    """The URLs the direct download was asked for; each one writes the fake tarball."""
    asked = []

    def download(url: str, destination: Path) -> None:
        asked.append(url)
        destination.write_bytes(package.read_bytes())

    monkeypatch.setattr(pyodide, "download", download)
    return asked


def served_files(cache: Path) -> dict[str, bytes]:
    folder = cache / "pyodide" / pyodide.VERSION
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_npm_pack_fetches_the_package_and_only_the_files_the_browser_needs_are_extracted(
    cache, fake_npm, downloads, capsys
):
    assert pyodide.main(cache) == 0
    (call,) = fake_npm.read_text().splitlines()
    assert call.startswith(f"pack pyodide@{pyodide.VERSION} --json --pack-destination {cache}/.pyodide-fetch-")
    assert downloads == []
    assert served_files(cache) == CONTENTS
    # Nothing else is served from the cache: the tarball and the list of digests sit beside the folder.
    assert sorted(path.name for path in (cache / "pyodide").iterdir()) == [pyodide.VERSION]
    assert sorted(path.name for path in cache.iterdir()) == [
        "pyodide",
        f"pyodide-{pyodide.VERSION}.sha256",
        f"pyodide-{pyodide.VERSION}.tgz",
    ]
    assert f"Pyodide {pyodide.VERSION} (npm pack" in capsys.readouterr().err


def test_without_npm_the_tarball_is_downloaded_directly(cache, no_npm, downloads):
    assert pyodide.main(cache) == 0
    assert downloads == [f"https://registry.invalid/npm/pyodide/-/pyodide-{pyodide.VERSION}.tgz"]
    assert served_files(cache) == CONTENTS


def test_a_tarball_that_does_not_match_the_pinned_integrity_is_refused_and_deleted(
    cache, no_npm, downloads, monkeypatch, capsys
):
    monkeypatch.setattr(pyodide, "INTEGRITY", "sha512-" + base64.b64encode(b"\0" * 64).decode())
    assert pyodide.main(cache) == 1
    message = capsys.readouterr().err.splitlines()[-1]
    assert message.startswith(
        f"Pyodide {pyodide.VERSION}: pyodide-{pyodide.VERSION}.tgz from https://registry.invalid/"
    )
    assert "does not match the pinned integrity" in message and "It was deleted" in message
    assert sorted(path.name for path in cache.iterdir()) == [], "the tarball was kept or something was extracted"


def test_a_second_run_does_nothing_and_needs_no_network(cache, fake_npm, downloads):
    assert pyodide.main(cache) == 0
    wasm = cache / "pyodide" / pyodide.VERSION / "pyodide.asm.wasm"
    extracted_at = wasm.stat().st_mtime_ns
    fake_npm.unlink()
    assert pyodide.main(cache) == 0
    assert not fake_npm.exists(), "npm was run again"
    assert downloads == []
    assert wasm.stat().st_mtime_ns == extracted_at


def test_a_damaged_file_is_extracted_again_from_the_kept_tarball_without_the_network(cache, no_npm, downloads):
    assert pyodide.main(cache) == 0
    wasm = cache / "pyodide" / pyodide.VERSION / "pyodide.asm.wasm"
    wasm.write_bytes(b"half a download")
    assert pyodide.main(cache) == 0
    assert downloads == [f"https://registry.invalid/npm/pyodide/-/pyodide-{pyodide.VERSION}.tgz"], (
        "it was downloaded again"
    )
    assert served_files(cache) == CONTENTS


def test_a_new_version_replaces_the_folder_of_the_old_one(cache, no_npm, downloads):
    """Everything under .cache/pyodide/ is collected and served: an older version would be shipped forever."""
    (cache / "pyodide" / "0.27.0").mkdir(parents=True)
    (cache / "pyodide" / "0.27.0" / "pyodide.asm.wasm").write_bytes(b"old")
    (cache / "pyodide-0.27.0.tgz").write_bytes(b"old")
    assert pyodide.main(cache) == 0
    assert sorted(path.name for path in (cache / "pyodide").iterdir()) == [pyodide.VERSION]
    assert not (cache / "pyodide-0.27.0.tgz").exists()


def test_the_checks_warn_when_the_files_are_missing(tmp_path, monkeypatch):
    """`manage.py check` (and so runserver and migrate) names the command that brings them."""
    monkeypatch.setattr(pyodide, "FOLDER", tmp_path)
    (warning,) = checks.pyodide_files(None)
    assert warning.id == "stream.W002"
    assert "make install" in warning.hint
