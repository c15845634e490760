import gzip

import pytest
from django.conf import settings
from django.template import engines
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def test_html_pages_are_compressed_for_browsers_that_accept_it(client):
    response = client.get("/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert b"<!DOCTYPE html>" in gzip.decompress(response.content)


def test_html_is_sent_plain_to_clients_that_do_not_accept_gzip(client):
    response = client.get("/")
    assert "Content-Encoding" not in response.headers
    assert response.text.startswith("<!DOCTYPE html>")


def test_static_files_carry_cache_headers_and_revalidate(client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert "max-age=" in response.headers["Cache-Control"]
    assert "ETag" in response.headers and "Last-Modified" in response.headers
    again = client.get("/static/css/site.css", HTTP_IF_NONE_MATCH=response.headers["ETag"])
    assert again.status_code == 304


def test_templates_get_the_url_of_pyodides_folder():
    """What a page hands the worker as loadPyodide's indexURL: unhashed, ending in a slash."""
    template = engines["django"].from_string("{{ pyodide_index_url }}")
    assert template.render({}, request=RequestFactory().get("/")) == f"/static/pyodide/{settings.PYODIDE_VERSION}/"


def test_pyodide_is_served_under_its_version_folder_and_cached_for_good(client):
    """Pyodide asks for its files by fixed names under indexURL: no hash in them, but a new version is a new folder."""
    folder = f"/static/pyodide/{settings.PYODIDE_VERSION}/"
    types = {
        "pyodide.mjs": "text/javascript",
        "pyodide.asm.mjs": "text/javascript",
        "pyodide.asm.wasm": "application/wasm",
        "python_stdlib.zip": "application/zip",
        "pyodide-lock.json": "application/json",
    }
    for name, media_type in types.items():
        response = client.get(folder + name)
        assert response.status_code == 200, f"{name} is missing: `make install` fetches it"
        assert response.headers["Content-Type"].split(";")[0] == media_type, name
        assert response.headers["Cache-Control"] == "max-age=315360000, public, immutable", name
    wasm = client.get(folder + "pyodide.asm.wasm")
    assert next(iter(wasm.streaming_content)).startswith(b"\0asm")
    assert client.get(folder + "console.html").status_code == 404, "only what the browser needs is served"
