"""The browser's JavaScript packages from the npm registry (CodeMirror for the lesson editor), served as ES modules.

Command line (``make install`` runs it, like ops/pyodide.py)::

    python -m ops.npm_assets

``package.json`` names the packages and ``package-lock.json`` pins every one of them, dependencies included,
with the integrity the registry published (``npm install --package-lock-only`` rewrites it). Each tarball comes
from $NPM_CONFIG_REGISTRY or the public registry, is refused unless it matches its integrity, and stays in
``.cache/npm/``. Of each package only its ES module entry (``exports.import`` or ``module``), the files that
entry imports, its LICENSE and package.json are extracted into ``.cache/vendor/<name>/``, which
``STATICFILES_DIRS`` serves at ``{STATIC_URL}vendor/``. The browser has no ``node_modules`` resolution, so
each import of another package ("@codemirror/state") is rewritten to that package's entry as a relative
path. A run that finds the files as the last one left them does nothing.

Standard library only, as config/settings.py imports FOLDER from here.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import posixpath
import re
import shutil
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LOCK = BASE_DIR / "package-lock.json"
CACHE = BASE_DIR / ".cache"
# Served as the static folder "vendor/".
FOLDER = CACHE / "vendor"
PUBLIC_REGISTRY = "https://registry.npmjs.org/"
DOWNLOAD_TIMEOUT = 60  # seconds without a byte before a download gives up
# The import and export statements of a built ES module each start a line; only these are rewritten.
STATEMENT = re.compile(r"""^((?:import|export)\b[^'"\n]*?(?:\bfrom\s*)?)(['"])([^'"\n]+)\2""", re.MULTILINE)


class FetchError(Exception):
    """Something that stops a fetch; the message is one line that says what."""


def integrity_of(path: Path) -> str:
    """The file's integrity as npm writes it: sha512- and the base64 of the digest."""
    with path.open("rb") as file:
        return "sha512-" + base64.b64encode(hashlib.file_digest(file, "sha512").digest()).decode()


def sha256_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def tarball_url(name: str, version: str) -> str:
    """Where the registry keeps a package's tarball ("@scope/name" is stored as name-VERSION.tgz)."""
    registry = os.environ.get("NPM_CONFIG_REGISTRY") or PUBLIC_REGISTRY
    return f"{registry.rstrip('/')}/{name}/-/{name.rpartition('/')[2]}-{version}.tgz"


def download(url: str, destination: Path) -> None:
    """Writes what ``url`` answers to ``destination`` (proxies from the environment, as urllib has them)."""
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as answer, destination.open("wb") as file:
            shutil.copyfileobj(answer, file, 1 << 20)
    except OSError as error:  # URLError and HTTPError are OSErrors
        raise FetchError(f"downloading {url} failed: {error}") from error


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str

    @property
    def tarball(self) -> str:
        return f"{self.name.replace('/', '+')}-{self.version}.tgz"


def locked_packages(lock: Path = LOCK) -> list[Package]:
    """Every package package-lock.json pins for the browser (not the development ones)."""
    try:
        entries = json.loads(lock.read_text())["packages"]
    except (OSError, ValueError, KeyError) as error:
        raise FetchError(f"{lock.name} cannot be read: {error}") from error
    packages = []
    for path, entry in sorted(entries.items()):
        if not path.startswith("node_modules/") or entry.get("dev"):
            continue
        name = path.rpartition("node_modules/")[2]
        if "integrity" not in entry:
            raise FetchError(f"{lock.name} pins no integrity for {name}")
        packages.append(Package(name, entry["version"], entry["integrity"]))
    return packages


def fetch(package: Package, cache: Path) -> Path:
    """The package's tarball in ``cache``, downloaded unless it is there, and checked against its integrity."""
    target = cache / "npm" / package.tarball
    if target.is_file() and integrity_of(target) == package.integrity:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    url = tarball_url(package.name, package.version)
    print(f"Downloading {url}…", file=sys.stderr, flush=True)
    partial = target.with_suffix(".partial")
    download(url, partial)
    if (actual := integrity_of(partial)) != package.integrity:
        partial.unlink()
        raise FetchError(
            f"{package.name}@{package.version} from {url} does not match the integrity pinned in package-lock.json: "
            f"it is {actual}. It was deleted and nothing was installed."
        )
    os.replace(partial, target)
    return target


def entry_of(manifest: dict) -> str:
    """The package's ES module entry, as package.json names it."""
    exports = manifest.get("exports")
    if isinstance(exports, dict):
        exports = exports.get(".", exports)
        if isinstance(exports, dict):
            exports = exports.get("import") or exports.get("default")
    entry = exports if isinstance(exports, str) else manifest.get("module")
    if not isinstance(entry, str):
        raise FetchError(f"{manifest.get('name')} names no ES module entry in its package.json")
    return posixpath.normpath(entry)


def read_member(archive: tarfile.TarFile, name: str) -> bytes:
    try:
        member = archive.getmember(f"package/{name}")
    except KeyError:
        raise FetchError(f"{Path(archive.name).name} has no package/{name}") from None
    source = archive.extractfile(member) if member.isfile() else None
    if source is None:
        raise FetchError(f"package/{name} in {Path(archive.name).name} is not a regular file")
    return source.read()


def module_files(archive: tarfile.TarFile, entry: str) -> dict[str, str]:
    """The entry and every file it imports by a relative path, by their paths in the package."""
    files: dict[str, str] = {}
    waiting = [entry]
    while waiting:
        name = waiting.pop()
        if name in files:
            continue
        if name.startswith("../") or name.startswith("/"):
            raise FetchError(f"{Path(archive.name).name} imports {name}, outside the package")
        files[name] = read_member(archive, name).decode()
        for match in STATEMENT.finditer(files[name]):
            if match[3].startswith("."):
                waiting.append(posixpath.normpath(posixpath.join(posixpath.dirname(name), match[3])))
    return files


def rewrite_imports(text: str, path: str, entries: dict[str, str]) -> str:
    """``text`` (the file at ``path`` under the vendor folder) with each package import made a relative path."""

    def relative(match: re.Match) -> str:
        specifier = match[3]
        if specifier.startswith("."):
            return match[0]
        if specifier not in entries:
            raise FetchError(f"{path} imports {specifier}, which package-lock.json does not pin")
        target = posixpath.relpath(f"{specifier}/{entries[specifier]}", posixpath.dirname(path))
        return f"{match[1]}{match[2]}{target if target.startswith('.') else './' + target}{match[2]}"

    return STATEMENT.sub(relative, text)


def stamp_path(cache: Path) -> Path:
    return cache / "vendor.sha256"


def is_installed(packages: list[Package], cache: Path) -> bool:
    """Whether the vendor folder holds what the last extraction of these packages wrote."""
    try:
        recorded = json.loads(stamp_path(cache).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or recorded.get("packages") != [p.integrity for p in packages]:
        return False
    folder = cache / "vendor"
    files = recorded.get("files")
    return isinstance(files, dict) and all(
        (folder / name).is_file() and sha256_of(folder / name) == digest for name, digest in files.items()
    )


def extract(packages: list[Package], tarballs: dict[Package, Path], cache: Path) -> None:
    """Each package's module files, LICENSE and package.json into cache/vendor/<name>/, replacing it at once."""
    with contextlib.ExitStack() as stack:
        archives = {p: stack.enter_context(tarfile.open(tarballs[p], "r:gz")) for p in packages}
        manifests = {p: json.loads(read_member(archive, "package.json")) for p, archive in archives.items()}
        entries = {p.name: entry_of(manifests[p]) for p in packages}
        written: dict[str, bytes] = {}
        for package, archive in archives.items():
            for name, text in module_files(archive, entries[package.name]).items():
                path = f"{package.name}/{name}"
                written[path] = rewrite_imports(text, path, entries).encode()
            written[f"{package.name}/package.json"] = read_member(archive, "package.json")
            names = {member.name for member in archive.getmembers()}
            for license_name in ("LICENSE", "LICENSE.md", "LICENSE.txt"):
                if f"package/{license_name}" in names:
                    written[f"{package.name}/{license_name}"] = read_member(archive, license_name)
    partial = cache / ".vendor.partial"
    shutil.rmtree(partial, ignore_errors=True)
    for path, data in written.items():
        (partial / path).parent.mkdir(parents=True, exist_ok=True)
        (partial / path).write_bytes(data)
    stamp_path(cache).unlink(missing_ok=True)
    shutil.rmtree(cache / "vendor", ignore_errors=True)
    os.replace(partial, cache / "vendor")
    digests = {path: hashlib.sha256(data).hexdigest() for path, data in sorted(written.items())}
    stamp = {"packages": [p.integrity for p in packages], "files": digests}
    stamp_path(cache).write_text(json.dumps(stamp, indent=1) + "\n")


def remove_unpinned_tarballs(packages: list[Package], cache: Path) -> None:
    kept = {package.tarball for package in packages}
    for path in (cache / "npm").glob("*.tgz"):
        if path.name not in kept:
            path.unlink()


def install(cache: Path = CACHE, lock: Path = LOCK) -> bool:
    """Makes cache/vendor/ hold the pinned packages' modules; False when it already did."""
    packages = locked_packages(lock)
    if is_installed(packages, cache):
        return False
    tarballs = {package: fetch(package, cache) for package in packages}
    extract(packages, tarballs, cache)
    remove_unpinned_tarballs(packages, cache)
    print(f"{len(packages)} npm packages for the browser are in {cache / 'vendor'}/", file=sys.stderr)
    return True


def main(cache: Path = CACHE) -> int:
    try:
        install(cache)
    except FetchError as error:
        print(f"npm packages: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
