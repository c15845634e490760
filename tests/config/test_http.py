import gzip

import pytest

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
