"""Every page the platform serves works on an air-gapped machine: nothing it loads comes
from another host, and what it loads is there.

The pages: the API's Swagger UI (``/api/docs``), the dbt docs site and the Airflow UI.
``tests/test_platform.py`` runs the same check against the pages of a running ``make up``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, run_dbt
from test_api_auth import make_app

LOOPBACK = {"", "127.0.0.1", "localhost", "[::1]", "::1"}
CSS_URL = re.compile(r"""(?:url\(\s*|@import\s+)["']?([^"')\s;]+)""")


class _References(HTMLParser):
    """What a page makes the browser fetch: scripts, styles, images, frames, CSS urls."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        rel = (values.get("rel") or "").lower()
        for name in ("src", "href", "data", "poster"):
            if not values.get(name) or (name == "href" and tag == "a"):  # a link, not a load
                continue
            if tag == "link" and rel in ("canonical", "alternate", "author", "help"):
                continue  # names a page, loads nothing
            self.found.append(values[name])
        if values.get("style"):
            self.found.extend(CSS_URL.findall(values["style"]))

    def handle_data(self, data):
        if self.lasttag == "style":
            self.found.extend(CSS_URL.findall(data))


def loaded_urls(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.found


def external_loads(html: str) -> list[str]:
    """The URLs a page loads from a host other than its own (or loopback)."""
    external = []
    for url in loaded_urls(html):
        parts = urlsplit(url.strip())
        if parts.scheme in ("data", "blob", "javascript", "mailto", "about"):
            continue
        host = parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0] if parts.netloc else ""
        if parts.netloc.startswith("["):
            host = parts.netloc.split("]")[0] + "]"
        if host not in LOOPBACK or url.strip().startswith("//"):
            external.append(url)
    return external


def test_the_check_catches_a_cdn():
    page = (
        '<html><head><script src="https://cdn.example.com/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/a.css">'
        "<style>@import 'https://fonts.googleapis.com/css';</style></head>"
        '<body><a href="https://github.com/">a link is not a load</a>'
        '<link rel="canonical" href="https://example.com/overview/">'
        '<img src="./static/pin.png"><script src="http://127.0.0.1:8000/x.js"></script>'
        '<div style="background: url(data:image/png;base64,AAAA)"></div></body></html>'
    )
    assert external_loads(page) == [
        "https://cdn.example.com/x.js",
        "//fonts.example.org/a.css",
        "https://fonts.googleapis.com/css",
    ]


@pytest.mark.slow
def test_the_api_docs_page_and_its_assets(module_warehouse):
    app = make_app(module_warehouse)
    try:
        client = app.test_client()
        reply = client.get("/api/docs")
        assert reply.status_code == 200
        page = reply.get_data(as_text=True)
        assert external_loads(page) == []
        local = [url for url in loaded_urls(page) if url.startswith("/")]
        assert len(local) >= 3  # the Swagger UI bundle, its preset and its stylesheet
        for url in local:
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.data) > 1000, url
            asset.close()
        spec = client.get("/api/openapi.json").get_json()
        assert len(spec["paths"]) >= 15  # the page's one request: the document it renders
    finally:
        app.extensions["db"].close()


@pytest.mark.slow
def test_the_dbt_docs_site_is_self_contained(module_warehouse):
    run_dbt(module_warehouse, "run", "--select", "+dim_symbols")
    run_dbt(module_warehouse, "docs", "generate", "--select", "+dim_symbols")
    target = ROOT / "dbt" / "target"
    page = (target / "index.html").read_text()
    assert external_loads(page) == []
    for fetched in ("manifest.json", "catalog.json"):  # what the page fetches, relative
        assert fetched in page and (target / fetched).stat().st_size > 1000


def test_the_airflow_ui_loads_only_its_own_assets():
    """The Airflow UI's page as installed (``airflow/ui/dist``): its scripts and styles are
    files of the package, served by the api-server under ``/static``."""
    import airflow

    dist = Path(airflow.__file__).parent / "ui" / "dist"
    page = (dist / "index.html").read_text()
    assert external_loads(page) == []
    local = [url for url in loaded_urls(page) if url.startswith("./static/")]
    assert any(url.endswith(".js") for url in local)
    for url in local:
        assert (dist / url.removeprefix("./static/")).exists() or (dist / url[2:]).exists(), url
