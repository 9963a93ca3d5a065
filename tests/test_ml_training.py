"""A tiny end-to-end training run on a real MLflow tracking store (PostgreSQL backend,
local artifacts) with real Keras: params, per-epoch metrics, evaluation beside the
baselines, the registered model with its aliases, the promotion rule in both directions,
and the model loaded back by alias and asked for forecasts."""

import dataclasses
import datetime as dt
import uuid

import psycopg2
import pytest
from conftest import create_database, drop_database, load_sample, run_dbt
from stockmind.db import sqlalchemy_url
from stockmind_ml.config import ForecastConfig
from stockmind_ml.registry import MODEL_NAME, promotion_decision

pytestmark = pytest.mark.slow

AS_OF = dt.date(2025, 6, 30)
SYMBOLS = ["AAPL", "KO", "MSFT", "XOM"]
TINY = dataclasses.replace(
    ForecastConfig.quick(), sequence_length=20, validation_days=40, test_days=40, epochs=1,
    max_samples=4000,
)  # fmt: skip


@pytest.fixture(scope="module")
def tracking(module_warehouse, tmp_path_factory):
    """A fresh MLflow store: its own database on the local cluster, artifacts in a tmp dir."""
    import mlflow

    load_sample(module_warehouse, SYMBOLS, dt.date(2021, 1, 4), AS_OF)
    run_dbt(module_warehouse, "run", "--select", "+fct_indicators_daily")
    name = f"mlflow_test_{uuid.uuid4().hex[:8]}"
    uri = sqlalchemy_url(create_database(name))
    mlflow.set_tracking_uri(uri)
    artifacts = tmp_path_factory.mktemp("mlartifacts")
    mlflow.create_experiment("stockmind-forecaster", artifact_location=artifacts.as_uri())
    yield module_warehouse, uri
    mlflow.set_tracking_uri(None)
    drop_database(name)


def test_train_register_gate_and_load_by_alias(tracking):
    import mlflow
    from mlflow import MlflowClient
    from stockmind_ml.dataset import load_bars
    from stockmind_ml.train import train_forecaster

    dsn, uri = tracking
    first = train_forecaster(dsn, AS_OF, TINY, SYMBOLS, tracking_uri=uri)
    client = MlflowClient(uri)
    run = client.get_run(first["run_id"])
    assert run.data.params["as_of"] == "2025-06-30" and run.data.params["horizons"] == "5,21,63"
    assert run.data.tags["promotion"] == first["why"] and run.data.tags["code_version"]
    assert len(client.get_metric_history(first["run_id"], "val_loss")) >= 1
    for model in ("lstm", "naive", "drift", "ridge"):
        assert f"test_{model}_mae_h21" in run.data.metrics
    assert 0 <= run.data.metrics["test_lstm_coverage_h63"] <= 1
    assert {"test_w1_lstm_mae_h21", "test_w2_naive_mae_h21"} <= set(run.data.metrics)
    assert int(client.get_model_version_by_alias(MODEL_NAME, "challenger").version) == 1
    champion_after_first = first["promoted"]  # decided by the rule, whatever it measured
    assert first["promoted"] == promotion_decision(first["metrics"], None)[0]

    second = train_forecaster(dsn, AS_OF, dataclasses.replace(TINY, seed=8), SYMBOLS, uri)
    assert int(client.get_model_version_by_alias(MODEL_NAME, "challenger").version) == 2
    expected, _ = promotion_decision(
        second["metrics"], first["metrics"] if champion_after_first else None
    )
    assert second["promoted"] == expected
    aliases = {
        int(v.version): v.aliases for v in client.search_model_versions(f"name='{MODEL_NAME}'")
    }
    if second["promoted"]:
        assert "champion" in aliases[2]
    elif champion_after_first:
        assert "champion" in aliases[1]
    else:
        assert not any("champion" in a for a in aliases.values())

    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("select version, promoted, promotion_reason from ml.model_versions order by 1")
        assert cur.fetchall() == [
            (1, first["promoted"], first["why"]),
            (2, second["promoted"], second["why"]),
        ]
    conn.close()

    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@challenger")
    forecasts = model.predict(load_bars(dsn, AS_OF, ["AAPL", "KO"]))
    assert list(forecasts["symbol"]) == ["AAPL", "KO"]
    assert set(forecasts["as_of"]) == {"2025-06-30"}
    assert (forecasts["h21_q10"] <= forecasts["h21_q50"]).all()
    assert (forecasts["h21_q50"] <= forecasts["h21_q90"]).all()


def test_the_promotion_rule_in_both_directions():
    better = {"validation_lstm_mae_h21": 0.04, "validation_naive_mae_h21": 0.05}
    worse = {"validation_lstm_mae_h21": 0.06, "validation_naive_mae_h21": 0.05}
    assert promotion_decision(better, None) == (
        True, "promoted: beats the naive baseline on validation_lstm_mae_h21 (0.040000)"
    )  # fmt: skip
    promote, why = promotion_decision(worse, None)
    assert not promote and "not better than the naive baseline" in why
    champion = {"validation_lstm_mae_h21": 0.03}
    promote, why = promotion_decision(better, champion)
    assert not promote and "not better than the champion" in why
    assert promotion_decision(better, {"validation_lstm_mae_h21": 0.045})[0]
    assert not promotion_decision({}, None)[0]  # nothing measured: nothing promoted


def test_scoring_writes_predictions_idempotently_and_announces_them(tracking):
    """After the training test: score with the challenger, into ml.predictions, with a
    prediction_update per symbol; scoring again replaces the rows."""
    import select

    from stockmind import events
    from stockmind_ml.predict import score

    dsn, uri = tracking
    listener = psycopg2.connect(dsn)
    listener.autocommit = True
    listener.cursor().execute(f"listen {events.CHANNEL}")
    result = score(dsn, AS_OF, alias="challenger", tracking_uri=uri)
    assert result["scored"] == len(SYMBOLS) and result["rows"] == 3 * len(SYMBOLS)
    again = score(dsn, AS_OF, alias="challenger", tracking_uri=uri)
    assert again["rows"] == result["rows"]
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select count(*), count(distinct symbol), min(bullish_score), max(bullish_score),"
            " bool_and(price_low <= target_price and target_price <= price_high),"
            " bool_and(as_of = %s) from ml.predictions",
            (AS_OF,),
        )
        count, symbols, low, high, ordered, dated = cur.fetchone()
    conn.close()
    assert (count, symbols, ordered, dated) == (3 * len(SYMBOLS), len(SYMBOLS), True, True)
    assert 0 <= low <= high <= 100
    assert select.select([listener], [], [], 5)[0]
    listener.poll()
    kinds = [events.decode(n.payload) for n in listener.notifies]
    listener.close()
    assert kinds and all(kind == events.PREDICTION_UPDATE for kind, _ in kinds)
    first = kinds[0][1][0]
    assert {"symbol", "asOf", "modelVersion", "bullishScore", "riskLevel"} <= set(first)
    assert [h["label"] for h in first["horizons"]] == ["1w", "1m", "3m"]


def test_scoring_without_a_champion_says_so(tracking):
    from mlflow import MlflowClient
    from stockmind_ml.predict import score

    dsn, uri = tracking
    client = MlflowClient(uri)
    champion = [
        v for v in client.search_model_versions(f"name='{MODEL_NAME}'") if "champion" in v.aliases
    ]
    if champion:
        client.delete_registered_model_alias(MODEL_NAME, "champion")
    try:
        result = score(dsn, AS_OF, alias="champion", tracking_uri=uri)
        assert result["scored"] == 0 and "no champion model yet" in result["message"]
        assert "--alias challenger" in result["message"]
    finally:
        if champion:
            client.set_registered_model_alias(MODEL_NAME, "champion", champion[0].version)


def test_the_api_serves_the_latest_forecast_with_its_judgement(tracking):
    """After scoring: the forecast through the real app, as the API's least-privilege
    role, reading the forecast marts (views on the ml sources)."""
    from conftest import api_reader_dsn
    from test_api_auth import make_app

    dsn, _ = tracking
    run_dbt(dsn, "run", "--select", "+dim_symbols", "fct_predictions", "dim_forecast_models")
    app = make_app(api_reader_dsn(dsn))
    try:
        reply = app.test_client().get("/api/market/predictions/aapl")
        assert reply.status_code == 200, reply.get_json()
        data = reply.get_json()["data"]
    finally:
        app.extensions["db"].close()
    assert data["symbol"] == "AAPL" and data["asOf"] == "2025-06-30"
    assert data["alias"] == "challenger" and data["modelVersion"] == 2
    assert data["status"] == "champion" or data["status"].startswith("kept as challenger")
    assert [h["label"] for h in data["horizons"]] == ["1w", "1m", "3m"]
    month = data["horizons"][1]
    assert month["low"] <= month["targetPrice"] <= month["high"]
    judged = month["validation"]
    assert judged["lstmMae"] > 0 and judged["naiveMae"] > 0 and judged["driftMae"] > 0
    assert 0 < judged["driftDirection"] < 1 and "naiveDirection" not in judged
    if judged["lstmMae"] != judged["naiveMae"]:  # equal once rounded: either answer holds
        assert judged["betterThanNaive"] == (judged["lstmMae"] < judged["naiveMae"])
    assert 0 <= data["bullishScore"] <= 100 and data["riskLevel"] in ("low", "medium", "high")


def test_the_dags_train_and_score_through_airflow(tracking, airflow_db, monkeypatch):
    """``dag.test()`` of both DAGs on the same store: a manual training run for a chosen
    as-of date (quick, one epoch) registers a new version; scoring with the challenger
    writes forecasts from that version."""
    from airflow.dag_processing.dagbag import DagBag
    from conftest import ROOT

    dsn, uri = tracking
    monkeypatch.setenv("DATABASE_URL", dsn)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    dags = DagBag(dag_folder=str(ROOT / "dags")).dags
    trained = dags["train_forecaster"].test(
        run_conf={"as_of": "2025-06-30", "quick": True, "epochs": 1}
    )
    assert trained.state == "success"
    scored = dags["score_forecaster"].test(run_conf={"alias": "challenger"})
    assert scored.state == "success"
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("select max(version) from ml.model_versions")
        (latest,) = cur.fetchone()
        cur.execute(
            "select count(distinct symbol) from ml.predictions where model_version = %s", (latest,)
        )
        assert cur.fetchone()[0] == len(SYMBOLS)
    conn.close()
    assert latest == 3  # two from the first test, one from the DAG


def test_the_model_is_served_over_http_by_mlflow(tracking):
    """``mlflow models serve`` of the challenger (the command ``stockmind ml serve`` runs):
    a real HTTP request with bars gets forecasts back. Its memory is measured (make up's
    choice: docs/operations.md)."""
    import json
    import os
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    import psutil
    from stockmind.platform.postgres_cluster import free_port
    from stockmind.platform.processes import model_server_command
    from stockmind_ml.dataset import load_bars

    dsn, uri = tracking
    port = free_port(0)
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, MLFLOW_TRACKING_URI=uri, PATH=bin_dir + os.pathsep + os.environ["PATH"])
    server = subprocess.Popen(
        model_server_command("challenger", port), env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/ping", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                time.sleep(1)
        bars = load_bars(dsn, AS_OF, ["AAPL", "KO"]).groupby("symbol").tail(80)
        bars["trade_date"] = bars["trade_date"].dt.strftime("%Y-%m-%d")
        body = {"dataframe_split": bars.to_dict(orient="split", index=False)}
        request = urllib.request.Request(
            base + "/invocations", json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=60) as reply:
            predictions = json.loads(reply.read())["predictions"]
        parent = psutil.Process(server.pid)
        rss = sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)
    assert [p["symbol"] for p in predictions] == ["AAPL", "KO"]
    assert all(p["h21_q10"] <= p["h21_q50"] <= p["h21_q90"] for p in predictions)
    print(f"mlflow models serve: {rss / 2**20:.0f} MiB resident")


def test_a_websocket_subscriber_receives_prediction_updates(tracking):
    """Scoring announces each symbol's forecast; the real server pushes it to the
    symbol's subscribers (the hub routes every event type by symbol)."""
    import json

    from conftest import live_api
    from simple_websocket import Client
    from stockmind_ml.predict import score

    dsn, uri = tracking
    run_dbt(dsn, "run", "--select", "+dim_symbols")
    with live_api(dsn) as base:
        ws = Client.connect(base.replace("http://", "ws://") + "/ws/market")
        try:
            ws.send(json.dumps({"type": "subscribe", "symbol": "KO"}))
            assert json.loads(ws.receive(timeout=10))["type"] == "subscribed"
            score(dsn, AS_OF, alias="challenger", tracking_uri=uri)
            while (message := json.loads(ws.receive(timeout=15)))["type"] != "prediction_update":
                assert message["type"] == "stock_update"  # a cached quote may come first
        finally:
            ws.close()
    data = message["data"]
    assert data["symbol"] == "KO" and data["asOf"] == "2025-06-30"
    assert [h["label"] for h in data["horizons"]] == ["1w", "1m", "3m"]
    assert data["riskLevel"] in ("low", "medium", "high")
