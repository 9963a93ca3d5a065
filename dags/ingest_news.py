"""
# ingest_news

News about the universe every 30 minutes, scored for sentiment, into the warehouse.

* **Sources** (`STOCKMIND_NEWS_SOURCE`, comma-separated, in order): `sample` (offline,
  clearly labelled synthetic headlines — the default with sample prices), `yfinance`
  (`Ticker.news`), `newsapi` (when `NEWS_API_KEY` is set). Each run reads the items
  published in its *data interval*, so any run can be re-run.
* **Shape**: `plan_batches` splits the universe into batches; `fetch_batch` is mapped
  over them (fetch → check → store once per story: canonical URL and content hash, across
  sources and runs; items without a title, URL or date, or dated in the future, go to
  `raw.rejected_rows` with a reason); `score` scores every article without a score.
* **Scoring** (`STOCKMIND_SENTIMENT_SCORER`): Gemini (`google-genai`, structured output,
  retries, a request budget) when a key is set — `GEMINI_API_KEY` or the password of the
  Airflow connection `gemini_default` — and the local `stockmind-sentiment` model (MLflow
  registry by alias, else the artifact shipped in the repository) for everything else.
* **Delivers**: `ml.sentiment_scores`; the marts `fct_news_articles` and
  `fct_sentiment_daily` are views on the sources (no dbt run needed), and every symbol
  whose 7-day aggregate changed gets a `sentiment_update`, sent in the writing
  transaction.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_current_context, task
from stockmind.assets import NEWS_ARTICLES_URI, SENTIMENT_SCORES_URI
from stockmind.queues import ML

NEWS_ARTICLES = Asset(name="raw.news_articles", uri=NEWS_ARTICLES_URI)
SENTIMENT_SCORES = Asset(name="ml.sentiment_scores", uri=SENTIMENT_SCORES_URI)


def gemini_key() -> str | None:
    """The Gemini key from the Airflow connection ``gemini_default`` (its password), if
    defined; else None and the scorer reads ``GEMINI_API_KEY``. Never logged."""
    from airflow.sdk import Connection

    try:
        return Connection.get("gemini_default").password or None
    except Exception:  # AirflowNotFoundException: no such connection
        return None


@dag(
    dag_id="ingest_news",
    schedule=CronDataIntervalTimetable("*/30 * * * *", timezone="UTC"),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["ingestion", "news", "sentiment"],
    default_args={
        "owner": "data-platform",
        "retries": 3,
        "retry_delay": dt.timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": dt.timedelta(minutes=10),
        "execution_timeout": dt.timedelta(minutes=20),
    },
)
def ingest_news():
    @task
    def plan_batches() -> list[list[str]]:
        from stockmind.pipelines import plan_symbol_batches

        return plan_symbol_batches()

    @task(max_active_tis_per_dagrun=4, multiple_outputs=False)
    def fetch_batch(symbols: list[str]) -> dict:
        from stockmind.news_ingest import ingest_news_batch

        ctx = get_current_context()
        start = ctx["data_interval_start"] or ctx["logical_date"]
        end = ctx["data_interval_end"] or ctx["logical_date"]
        return ingest_news_batch(symbols, start, end, ctx["run_id"])

    @task(outlets=[NEWS_ARTICLES], multiple_outputs=False)
    def summarize(reports: list[dict]) -> dict:
        from stockmind.run_log import record_run

        keys = ("inserted", "duplicates", "rejected", "linked")
        total = {key: sum(r[key] for r in reports) for key in keys} | {"batches": len(reports)}
        ctx = get_current_context()  # the run is recorded in ops.pipeline_runs (/metrics)
        end = ctx["data_interval_end"] or ctx["logical_date"]
        record_run("ingest_news", ctx["run_id"], end, total["inserted"], total["rejected"], total)
        return total

    @task(outlets=[SENTIMENT_SCORES], multiple_outputs=False, queue=ML)
    def score() -> dict:
        from stockmind_ml.sentiment.tasks import score_news

        return score_news(api_key=gemini_key())

    summarize(fetch_batch.expand(symbols=plan_batches())) >> score()


ingest_news()
