import pytest
from django.urls import Resolver404, resolve

from config import bench


@pytest.mark.parametrize("url", ["/bench/bare/", "/bench/page-cache/"])
def test_production_urls_do_not_route_the_benchs_views(url):
    """The bench's views are in config.bench_urls alone, which only config.settings_bench routes."""
    with pytest.raises(Resolver404):
        resolve(url, urlconf="config.urls")


def test_production_settings_route_the_production_urls():
    from config import settings as production

    assert production.ROOT_URLCONF == "config.urls"
    assert "bench" not in production.CACHES["default"]["BACKEND"]


def test_the_bench_urls_route_the_bare_view_and_the_whole_site():
    assert resolve("/bench/bare/", urlconf="config.bench_urls").func is bench.bare
    assert resolve("/healthz/live", urlconf="config.bench_urls").url_name == "live"


def test_the_bare_view_answers_bytes_and_nothing_more(rf):
    response = bench.bare(rf.get("/bench/bare/"))
    assert response.status_code == 200
    assert response.content == b"ok"
