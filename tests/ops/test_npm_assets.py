"""ops/npm_assets.py, which `make install` runs: the packages of package-lock.json, checked, served as ES modules.

Small packages built here stand in for CodeMirror's; they are downloaded over HTTP from a registry on this machine.
"""

import functools
import http.server
import json
import threading
from pathlib import Path

import pytest

from config import checks
from ops import npm_assets
from tests.ops.test_pyodide import make_tarball

# Two packages as npm packs them: one imports the other by its bare name, and itself by a relative path.
EDITOR = {
    "package.json": json.dumps({"name": "@demo/editor", "exports": {".": {"import": "./dist/index.js"}}}).encode(),
    "dist/index.js": b"import { keyName } from 'keys';\nimport { part } from './part.js';\nexport const editor = 1;\n",
    "dist/part.js": b"export const part = 2;\n",
    "dist/index.cjs": b"module.exports = {};\n",
    "LICENSE": b"MIT\n",
    "README.md": b"# editor\n",
}
KEYS = {
    "package.json": json.dumps({"name": "keys", "module": "index.js"}).encode(),
    "index.js": b'export function keyName() {}\n// The docs say: from "module"\n',
}


@pytest.fixture
def registry(tmp_path):
    """An npm registry's tarball folders, served on 127.0.0.1; yields the folder and the requests it answered."""
    folder = tmp_path / "registry"
    (folder / "@demo/editor/-").mkdir(parents=True)
    (folder / "keys/-").mkdir(parents=True)
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_port}/", requests
    server.shutdown()


@pytest.fixture
def lock(tmp_path, registry, monkeypatch) -> Path:
    folder, url, _ = registry
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", url)
    editor = make_tarball(folder / "@demo/editor/-/editor-1.0.0.tgz", EDITOR)
    keys = make_tarball(folder / "keys/-/keys-2.0.0.tgz", KEYS)
    path = tmp_path / "package-lock.json"
    packages = {
        "": {"name": "site"},
        "node_modules/@demo/editor": {"version": "1.0.0", "integrity": editor},
        "node_modules/keys": {"version": "2.0.0", "integrity": keys},
        "node_modules/a-test-tool": {"version": "1.0.0", "integrity": "sha512-x", "dev": True},
    }
    path.write_text(json.dumps({"lockfileVersion": 3, "packages": packages}))
    return path


def test_the_pinned_packages_are_fetched_and_their_modules_import_each_other_by_relative_paths(tmp_path, lock):
    cache = tmp_path / "cache"
    assert npm_assets.install(cache, lock) is True
    vendor = cache / "vendor"
    served = sorted(str(path.relative_to(vendor)) for path in vendor.rglob("*") if path.is_file())
    # The ES modules, licences and manifests only: no CommonJS build, no README, no development package.
    assert served == [
        "@demo/editor/LICENSE",
        "@demo/editor/dist/index.js",
        "@demo/editor/dist/part.js",
        "@demo/editor/package.json",
        "keys/index.js",
        "keys/package.json",
    ]
    editor = (vendor / "@demo/editor/dist/index.js").read_text()
    assert "from '../../../keys/index.js'" in editor
    assert "from './part.js'" in editor
    assert (vendor / "keys/index.js").read_bytes() == KEYS["index.js"]  # text in a comment is left alone


def test_a_second_run_does_nothing_and_a_changed_file_is_extracted_again_without_the_network(tmp_path, lock, registry):
    _, _, requests = registry
    cache = tmp_path / "cache"
    npm_assets.install(cache, lock)
    assert len(requests) == 2
    assert npm_assets.install(cache, lock) is False
    (cache / "vendor/keys/index.js").write_text("alert('changed')")
    assert npm_assets.install(cache, lock) is True
    assert (cache / "vendor/keys/index.js").read_bytes() == KEYS["index.js"]
    assert len(requests) == 2


def test_a_tarball_that_does_not_match_its_integrity_is_refused_and_nothing_is_installed(tmp_path, lock, registry):
    folder, _, _ = registry
    make_tarball(folder / "keys/-/keys-2.0.0.tgz", KEYS | {"index.js": b"export const stolen = 1;\n"})
    cache = tmp_path / "cache"
    with pytest.raises(npm_assets.FetchError, match=r"keys@2\.0\.0 .* does not match the integrity pinned"):
        npm_assets.install(cache, lock)
    assert not (cache / "vendor").exists()
    assert not (cache / "npm/keys-2.0.0.tgz").exists()


def test_an_import_of_a_package_the_lock_does_not_pin_is_refused(tmp_path, lock):
    data = json.loads(lock.read_text())
    del data["packages"]["node_modules/keys"]
    lock.write_text(json.dumps(data))
    with pytest.raises(npm_assets.FetchError, match=r"imports keys, which package-lock\.json does not pin"):
        npm_assets.install(tmp_path / "cache", lock)


def test_the_projects_lock_pins_codemirror_and_the_checks_see_its_files():
    """The repository's own lock, as `make install` left it: every package pinned, the files in place."""
    names = {package.name for package in npm_assets.locked_packages()}
    assert {"@codemirror/view", "@codemirror/lang-markdown", "@codemirror/lang-python"} <= names
    assert checks.npm_asset_files(None) == []


def test_the_checks_warn_when_the_files_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(npm_assets, "CACHE", tmp_path)
    [warning] = checks.npm_asset_files(None)
    assert warning.id == "stream.W003" and "make install" in warning.hint
