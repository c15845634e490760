"""Pyodide, the CPython that runs learners' code in the browser, served from our own static files.

Command line (``make install`` runs it, and so do ``make run``, ``make test``, ``make serve`` and
``make cluster``)::

    python -m ops.pyodide

It takes the npm package pyodide@VERSION (``npm pack`` when npm is on PATH, else a direct download of the
same tarball from $NPM_CONFIG_REGISTRY or the public npm registry, as ops/npm_assets.py does), refuses it
unless it matches the pinned integrity, and extracts the files the browser needs into
``.cache/pyodide/VERSION/`` (git-ignored), which ``STATICFILES_DIRS`` serves at ``{STATIC_URL}pyodide/VERSION/``.
The tarball stays in ``.cache/``, so the files can be extracted again without the network. A run that finds the
extracted files as the last one left them (their SHA-256 in ``.cache/pyodide-VERSION.sha256``) does nothing.

Standard library only: config/settings.py imports VERSION and FOLDER from here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from ops.npm_assets import FetchError, download, integrity_of, sha256_of
from ops.npm_assets import tarball_url as package_tarball_url

VERSION = "314.0.7"
# What npm's registry gives as the tarball's dist.integrity (`npm view pyodide@VERSION dist.integrity`).
INTEGRITY = "sha512-0YvXxEhfEdpLfb/XkM2BFAeMROq0iMUX2bzzH9pOttyMcWkwq+HbE5uyuGD82LN7y2q+SNvi/6V5JEsOlD2R1A=="
# What loadPyodide({indexURL}) requests by these fixed names, the source map of pyodide.mjs for the browser's
# developer tools, and the package's README and package.json (which names the license, MPL-2.0). The rest of
# the package (console pages, type declarations, the CommonJS build) is not served.
FILES = (
    "pyodide.mjs",
    "pyodide.mjs.map",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
    "README.md",
    "package.json",
)

BASE_DIR = Path(__file__).resolve().parent.parent
CACHE = BASE_DIR / ".cache"
# Served as the static folder "pyodide/": one subfolder per version, and only the pinned one is kept.
FOLDER = CACHE / "pyodide"


# Something that stops the fetch; the message is one line that says what.
PyodideError = FetchError


def tarball_path(cache: Path) -> Path:
    return cache / f"pyodide-{VERSION}.tgz"


def stamp_path(cache: Path) -> Path:
    return cache / f"pyodide-{VERSION}.sha256"


def is_installed(cache: Path) -> bool:
    """Whether every file is in place with the SHA-256 it had when it was extracted."""
    try:
        recorded = json.loads(stamp_path(cache).read_text())
    except (OSError, ValueError):
        return False
    folder = cache / "pyodide" / VERSION
    if not isinstance(recorded, dict) or set(recorded) != set(FILES):
        return False
    return all((folder / name).is_file() and sha256_of(folder / name) == recorded[name] for name in FILES)


def tarball_url() -> str:
    return package_tarball_url("pyodide", VERSION)


def find_npm() -> str | None:
    return shutil.which("npm")


def npm_pack(npm: str, destination: Path) -> Path:
    """The tarball as ``npm pack`` fetches it (through npm's own cache and registry settings)."""
    try:
        result = subprocess.run(
            [npm, "pack", f"pyodide@{VERSION}", "--json", "--pack-destination", str(destination)],
            cwd=destination,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PyodideError(f"npm pack pyodide@{VERSION} failed: {error}") from error
    try:
        filename = json.loads(result.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        filename = None
    if result.returncode != 0 or not filename or not (destination / filename).is_file():
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise PyodideError(f"npm pack pyodide@{VERSION} failed (exit {result.returncode}): {last_line}")
    return destination / filename


def fetch(cache: Path) -> tuple[Path, str]:
    """The tarball in ``cache`` and where it came from, not yet verified."""
    target = tarball_path(cache)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".pyodide-fetch-") as folder:
        if npm := find_npm():
            print(f"Fetching pyodide@{VERSION} with npm pack…", file=sys.stderr, flush=True)
            try:
                os.replace(npm_pack(npm, Path(folder)), target)
                return target, "npm pack"
            except PyodideError as error:
                print(f"{error}; downloading the tarball instead.", file=sys.stderr, flush=True)
        url = tarball_url()
        print(f"Downloading {url}…", file=sys.stderr, flush=True)
        partial = Path(folder) / target.name
        download(url, partial)
        os.replace(partial, target)
        return target, url


def verify(tarball: Path, source: str) -> None:
    """Deletes a tarball that is not the pinned one, and says so."""
    actual = integrity_of(tarball)
    if actual != INTEGRITY:
        tarball.unlink()
        raise PyodideError(
            f"{tarball.name} from {source} does not match the pinned integrity: it is {actual}, "
            f"not {INTEGRITY} (ops/pyodide.py). It was deleted and nothing was installed."
        )


def extract(tarball: Path, cache: Path) -> None:
    """FILES from the tarball's package/ into cache/pyodide/VERSION/, replacing what was there at once."""
    folder = cache / "pyodide" / VERSION
    partial = cache / f".pyodide-{VERSION}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    digests = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for name in FILES:
            try:
                member = archive.getmember(f"package/{name}")
            except KeyError:
                raise PyodideError(f"{tarball.name} has no package/{name}") from None
            source = archive.extractfile(member) if member.isfile() else None
            if source is None:
                raise PyodideError(f"package/{name} in {tarball.name} is not a regular file")
            data = source.read()
            (partial / name).write_bytes(data)
            digests[name] = hashlib.sha256(data).hexdigest()
    stamp_path(cache).unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, folder)
    stamp_path(cache).write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")


def remove_other_versions(cache: Path) -> None:
    """Everything under cache/pyodide/ is collected and served: an older version must go."""
    for path in (cache / "pyodide").iterdir():
        if path.name != VERSION:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for pattern in ["pyodide-*.tgz", "pyodide-*.sha256"]:
        for path in cache.glob(pattern):
            if path not in {tarball_path(cache), stamp_path(cache)}:
                path.unlink()


def install(cache: Path = CACHE) -> bool:
    """Makes cache/pyodide/VERSION/ hold FILES of the pinned package; False when it already did."""
    if is_installed(cache):
        return False
    cache.mkdir(parents=True, exist_ok=True)
    tarball = tarball_path(cache)
    if tarball.is_file() and integrity_of(tarball) == INTEGRITY:
        source = str(tarball)
    else:
        tarball, source = fetch(cache)
        verify(tarball, source)
    extract(tarball, cache)
    remove_other_versions(cache)
    print(f"Pyodide {VERSION} ({source}, {INTEGRITY[:19]}…) is in {cache / 'pyodide' / VERSION}/", file=sys.stderr)
    return True


def main(cache: Path = CACHE) -> int:
    try:
        install(cache)
    except PyodideError as error:
        print(f"Pyodide {VERSION}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
