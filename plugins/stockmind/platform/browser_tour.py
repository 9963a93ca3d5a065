"""Every web surface a user opens, in a real browser: the live market page, Swagger UI,
the Airflow UI, the MLflow UI and the dbt docs — each checked the way a person would look
at it, with a screenshot saved.

Debian's ``chromium`` driven by Playwright (``executable_path``: no browser download);
the platform test runs the tour against ``make up``'s services, and
``stockmind screenshots`` runs it against a running platform to regenerate the README's
images (``docs/images``).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-default-apps"]  # fmt: skip
DESKTOP = {"width": 1280, "height": 860}


@dataclass
class Tour:
    """What the browser saw: screenshots by name, console errors by page."""

    out: Path
    shots: dict[str, Path] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def shoot(self, page, name: str, full_page: bool = False) -> Path:
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.shots[name] = path
        return path


@contextmanager
def browser() -> Iterator:
    """A headless Debian chromium with a fresh profile (nothing phones home)."""
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="stockmind-chromium-") as profile,
        sync_playwright() as p,
    ):
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS, viewport=DESKTOP
        )
        try:
            yield context
        finally:
            context.close()


def open_page(context, tour: Tour, name: str):
    """A new tab whose console errors and uncaught exceptions are kept under ``name``."""
    page = context.new_page()
    errors = tour.errors.setdefault(name, [])
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def swagger(context, api_url: str, tour: Tour) -> None:
    """``/api/docs``: Swagger UI from installed assets renders the operations."""
    page = open_page(context, tour, "swagger")
    page.goto(api_url.rstrip("/") + "/docs", wait_until="networkidle")
    page.wait_for_selector(".opblock", timeout=20_000)
    operations = page.locator(".opblock").count()
    assert operations >= 10, f"Swagger UI shows {operations} operations"
    tour.shoot(page, "swagger")
    page.close()


def airflow(context, airflow_url: str, user: str, password: str, tour: Tour,
            dag_id: str = "ingest_prices_daily") -> None:  # fmt: skip
    """Sign in with the printed credentials; the DAG list shows our DAGs with their last
    runs; a DAG's page shows its graph."""
    page = open_page(context, tour, "airflow")
    page.goto(f"{airflow_url}/auth/login?next=/dags", wait_until="networkidle")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_url(re.compile(r"/dags"), timeout=30_000)
    page.get_by_text(dag_id, exact=True).first.wait_for(timeout=30_000)
    for name in ("transform_market", "poll_quotes", "ingest_news"):
        assert page.get_by_text(name, exact=True).count() >= 1, f"{name} not in the DAG list"
    assert page.get_by_text("Latest Run").count() >= 3, "the DAG list shows no last runs"
    tour.shoot(page, "airflow-dags")
    page.evaluate("localStorage.setItem('default_dag_view', JSON.stringify('graph'))")
    page.goto(f"{airflow_url}/dags/{dag_id}", wait_until="networkidle")
    page.wait_for_selector(".react-flow__node", timeout=30_000)
    nodes = page.locator(".react-flow__node").count()
    assert nodes >= 3, f"the graph of {dag_id} shows {nodes} tasks"
    tour.shoot(page, "airflow-graph")
    page.close()


def mlflow(context, mlflow_url: str, tour: Tour, model: str = "stockmind-forecaster") -> None:
    """The registered model with its aliases, and the forecaster's experiment."""
    page = open_page(context, tour, "mlflow")
    page.goto(f"{mlflow_url}/#/models/{model}", wait_until="domcontentloaded")
    page.get_by_text(model).first.wait_for(timeout=30_000)
    page.get_by_text(re.compile(r"@\s*(champion|challenger)")).first.wait_for(timeout=30_000)
    tour.shoot(page, "mlflow-registry")
    page.goto(f"{mlflow_url}/#/experiments", wait_until="domcontentloaded")  # it polls
    page.get_by_text("stockmind-forecaster").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    tour.shoot(page, "mlflow-experiments")
    page.close()


def dbt_docs(context, docs_url: str, tour: Tour, model: str = "fct_indicators_daily") -> None:
    """A model's page in the dbt docs with its lineage graph."""
    page = open_page(context, tour, "dbt-docs")
    page.goto(f"{docs_url}/#!/model/model.stockmind.{model}", wait_until="networkidle")
    page.get_by_text(model).first.wait_for(timeout=30_000)
    page.locator("[ng-click='onLauncherClick()']").first.click()  # the lineage launcher
    page.wait_for_function(  # cytoscape draws the lineage on canvases once laid out
        "Array.from(document.querySelectorAll('canvas')).some(c => c.width > 0)", timeout=30_000
    )
    page.wait_for_timeout(1500)
    tour.shoot(page, "dbt-lineage")
    page.close()


CANVAS_INK = """() => Array.from(document.querySelectorAll('#chart canvas')).map(c => {
  if (!c.width || !c.height) return 0;
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 4 * 97) colours.add(data.slice(i, i + 4).join());
  return colours.size;
}).reduce((a, b) => Math.max(a, b), 0)"""


PAGE_BYTES = """() => performance.getEntriesByType('resource').concat(
  performance.getEntriesByType('navigation'))
  .filter(e => !new URL(e.name).pathname.startsWith('/api/'))
  .reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0)"""
CANDLES = """() => {
  const series = window.stockmindChart.panes()[0].getSeries()
    .find(s => s.seriesType() === 'Candlestick');
  return series.data().map(b => ({time: b.time, close: b.close}));
}"""


def market_page(context, page_url: str, api_get, tour: Tour, publish_quote=None) -> dict:
    """The live page: no console errors, the chart drawn with the API's last close, a
    scanner row opens its symbol, and (given ``publish_quote(symbol) -> price``, a real
    poll cycle) the quote shows on screen within seconds. ``api_get(path)`` reads the API
    the way a client does, for the values the screen must show."""
    page = open_page(context, tour, "page")
    page.goto(page_url, wait_until="domcontentloaded")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    symbol = page.inner_text("#current-symbol").strip()
    history = api_get(f"/market/stock/{symbol}")["data"]["historicalData"]
    drawn = page.evaluate(CANDLES)  # the price pane's candles, as the chart holds them
    # the chart holds the API's bars: a live quote may since have moved the last one, or
    # opened one candle after it (a quote of the session after the last daily bar: in New
    # York it is already the next day for most of the UTC day)
    by_day = {str(candle["time"])[:10]: candle for candle in drawn}
    day_before = by_day.get(history[-2]["date"], {})
    assert day_before.get("close") == history[-2]["close"], (drawn[-3:], history[-2:])
    assert history[-1]["date"] in by_day, (drawn[-2:], history[-1])
    assert len([day for day in by_day if day > history[-1]["date"]]) <= 1, drawn[-3:]
    ink = page.evaluate(CANVAS_INK)
    assert ink > 10, f"the chart's canvases are blank ({ink} colours)"
    weight = page.evaluate(PAGE_BYTES)  # the page and its assets, API data aside
    assert weight < 300_000, f"the page and its assets weigh {weight} bytes"
    tour.shoot(page, "page")
    rows = page.locator("#scanner tr[data-symbol]")
    target = next(s for s in (rows.nth(i).get_attribute("data-symbol") for i in range(rows.count()))
                  if s != symbol)  # fmt: skip
    page.locator(f"#scanner tr[data-symbol='{target}']").first.click()
    page.wait_for_function(
        f"document.querySelector('#current-symbol').innerText.trim() === '{target}'"
        " && document.body.dataset.ready === '1'", timeout=15_000,
    )  # fmt: skip
    seen = {"opened": target}
    if publish_quote is not None:
        page.wait_for_function(
            "document.querySelector('#live-status').innerText.includes('live')", timeout=15_000
        )
        price = publish_quote(target)
        page.wait_for_function(
            f"document.querySelector('#price').innerText.includes('{price:.2f}')", timeout=10_000
        )
        seen["live_price"] = price
    tour.shoot(page, "page-live")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"at phone width the page scrolls sideways ({wide} px)"
    tour.shoot(page, "page-phone", full_page=True)
    errors = [e for e in tour.errors.get("page", []) if e]
    assert not errors, f"console errors on the page: {errors[:5]}"
    page.close()
    return seen


def run_tour(urls: dict[str, str], user: str, password: str, out: Path,
             publish_quote=None) -> Tour:  # fmt: skip
    """Every surface in one browser: ``urls`` has page, api, airflow, mlflow and docs."""
    import json
    import urllib.request

    def api_get(path: str) -> dict:
        with urllib.request.urlopen(urls["api"].rstrip("/") + path, timeout=10) as reply:
            return json.loads(reply.read())

    out.mkdir(parents=True, exist_ok=True)
    tour = Tour(out)
    with browser() as context:
        market_page(context, urls["page"], api_get, tour, publish_quote)
        swagger(context, urls["api"], tour)
        airflow(context, urls["airflow"], user, password, tour)
        mlflow(context, urls["mlflow"], tour)
        dbt_docs(context, urls["docs"], tour)
    return tour


def platform_urls(settings) -> dict[str, str]:
    """The running platform's addresses (``make up``'s ports)."""
    from stockmind.platform.environment import airflow_port, airflow_ports, mlflow_url

    ports = airflow_ports(settings)
    rest = f"http://127.0.0.1:{ports['rest']}"
    return {"page": rest + "/", "api": rest + "/api", "mlflow": mlflow_url(settings),
            "airflow": f"http://127.0.0.1:{airflow_port(settings)}",
            "docs": f"http://127.0.0.1:{ports['docs']}"}  # fmt: skip
