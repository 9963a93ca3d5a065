"""The market page's routes in the real app: the page, its scripts and the chart library
from the npm install, each with the page's security headers, no path escapes, and no
rate limit on static files (the browser tour in test_platform.py drives the page)."""

import pytest
from test_api_auth import make_app


@pytest.fixture(scope="module")
def client(module_warehouse):
    app = make_app(module_warehouse)
    yield app.test_client()
    app.extensions["db"].close()


def test_the_page_and_its_assets_are_served_with_security_headers(client):
    page = client.get("/")
    assert page.status_code == 200 and b"StockMind" in page.data
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    for path in ("/web/app.js", "/web/chart.js", "/web/app.css"):
        reply = client.get(path)
        assert reply.status_code == 200 and reply.data, path
    charts = client.get("/web/vendor/lightweight-charts.js?v=5.2.1")
    assert charts.status_code == 200 and charts.mimetype == "text/javascript"
    assert b"Lightweight Charts" in charts.data[:400]  # its licence banner is kept
    assert b"TradingView" in client.get("/web/vendor/NOTICE").data
    assert b"Apache License" in client.get("/web/vendor/LICENSE").data


def test_no_path_leaves_the_static_folder(client):
    for path in ("/web/../views.py", "/web/..%2fviews.py", "/web/%2e%2e/__init__.py"):
        assert client.get(path).status_code == 404, path
