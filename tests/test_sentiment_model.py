"""The local finance-sentiment model: the shipped artifact meets its targets on the
validation split and beats VADER; an exported model scores exactly like the sklearn
pipeline it came from; a real training run on a real MLflow store (PostgreSQL backend,
local artifacts) registers, gates and is loaded back by alias; offline, the shipped
artifact answers."""

from __future__ import annotations

import json
import os
import re
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import create_database, drop_database
from stockmind.db import sqlalchemy_url
from stockmind_ml.sentiment.artifact import LinearSentiment, digest
from stockmind_ml.sentiment.config import MODEL_NAME, SentimentConfig
from stockmind_ml.sentiment.dataset import default_data_dir, load_split
from stockmind_ml.sentiment.evaluate import metrics
from stockmind_ml.sentiment.local import SHIPPED, load_local, load_shipped
from stockmind_ml.sentiment.registry import promotion_decision

HEADLINES = {  # ordinary headlines, not tweets: a sanity check, not a tuning set
    "Acme shares plunge after profit warning": "negative",
    "Acme misses revenue forecasts, shares fall": "negative",
    "Acme beats earnings estimates and raises guidance": "positive",
    "Analysts upgrade Acme to buy": "positive",
    "Acme to present at investor conference next week": "neutral",
    "Acme names new chief financial officer": "neutral",
}


@pytest.fixture(scope="module")
def data() -> Path:
    found = default_data_dir()
    if found is None:
        pytest.skip("shared data absent: set STOCKMIND_SHARED_DATA or place ../shared/data")
    return found


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_the_shipped_artifact_meets_its_targets_on_valid(data):
    model = LinearSentiment.load(SHIPPED)
    valid = load_split(data, "valid")
    labels, _ = model.labels_and_scores(list(valid["text"]))
    found, _ = metrics("validation", "local", list(valid["label"]), labels)
    assert found["validation_local_accuracy"] >= 0.82, found
    assert found["validation_local_macro_f1"] >= 0.75, found
    vader = model.meta["validation"]["validation_vader_macro_f1"]
    assert found["validation_local_macro_f1"] > vader
    # what the artifact says it measured is what it measures
    assert found["validation_local_macro_f1"] == pytest.approx(
        model.meta["validation"]["validation_local_macro_f1"], abs=1e-12
    )


def test_the_shipped_artifact_is_small_plain_and_explained():
    files = {p.name: p for p in SHIPPED.iterdir()}
    assert {"sentiment.json", "sentiment.npz", "NOTICE.md"} <= set(files)
    assert sum(p.stat().st_size for p in files.values()) < 5 * 1024 * 1024
    with zipfile.ZipFile(files["sentiment.npz"]) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
    np.load(files["sentiment.npz"], allow_pickle=False).close()  # no object arrays
    json.loads(files["sentiment.json"].read_text())
    notice = files["NOTICE.md"].read_text()
    assert "zeroshot" in notice and "MIT License" in notice
    assert "stockmind sentiment train --data PATH" in notice and digest(SHIPPED) in notice


def test_classify_shape_offline(offline):
    local = load_local()
    assert local.name == "local"
    assert re.fullmatch(rf"{MODEL_NAME}/shipped-[0-9a-f]{{8}}", local.model)
    answers = local.classify(["Acme shares plunge after profit warning", "", "Acme"])
    assert len(answers) == 3 and local.classify([]) == []
    for answer in answers:
        assert set(answer) == {"label", "score", "scorer", "model"}
        assert answer["label"] in ("positive", "neutral", "negative")
        assert isinstance(answer["score"], float) and -1 <= answer["score"] <= 1
        assert answer["scorer"] == "local" and answer["model"] == local.model


def test_ordinary_news_headlines(offline):
    local = load_local()
    answers = local.classify(list(HEADLINES))
    got = {text: a["label"] for text, a in zip(HEADLINES, answers, strict=True)}
    assert got == HEADLINES
    by_label = {a["label"]: a["score"] for a in answers}
    assert by_label["negative"] < 0 < by_label["positive"]


def test_vader_has_the_same_shape():
    from stockmind_ml.sentiment.lexicon import VaderSentiment

    vader = VaderSentiment()
    answers = vader.classify(["Great results, strong growth!", "Terrible losses.", "Acme."])
    assert [a["label"] for a in answers] == ["positive", "negative", "neutral"]
    assert all(a["scorer"] == "vader" and a["model"].startswith("vaderSentiment-") for a in answers)


def test_the_promotion_rule_in_both_directions():
    better = {"validation_local_macro_f1": 0.78, "validation_vader_macro_f1": 0.45}
    worse = {"validation_local_macro_f1": 0.40, "validation_vader_macro_f1": 0.45}
    assert promotion_decision(better, None) == (
        True, "promoted: beats the VADER baseline on validation_local_macro_f1 (0.7800)"
    )  # fmt: skip
    promote, why = promotion_decision(worse, None)
    assert not promote and "not better than the VADER baseline" in why
    promote, why = promotion_decision(better, {"validation_local_macro_f1": 0.80})
    assert not promote and "not better than the champion" in why
    promote, why = promotion_decision(better, {"validation_local_macro_f1": 0.77})
    assert promote and "and the champion" in why
    assert not promotion_decision({}, None)[0]  # nothing measured: nothing promoted


@pytest.mark.slow
def test_the_export_scores_exactly_like_the_pipeline(data, tmp_path):
    from stockmind_ml.sentiment.train import fit

    model, facts, pipeline = fit(data, SentimentConfig.quick())
    texts = [*load_split(data, "valid")["text"], *HEADLINES, "", "$ACME 12.5% https://t.co/x"]
    expected = pipeline.predict_proba(texts)
    assert list(pipeline.classes_) == list(model.classes)
    np.testing.assert_allclose(model.probabilities(texts), expected, rtol=0, atol=1e-12)
    sha = model.save(tmp_path / "a")
    loaded = LinearSentiment.load(tmp_path / "a")
    assert np.array_equal(loaded.probabilities(texts), model.probabilities(texts))
    assert list(pipeline.predict(texts)) == loaded.labels_and_scores(texts)[0]
    assert model.save(tmp_path / "b") == sha  # same model, same bytes, same name
    assert facts["c"] == 5.0 and facts["train_samples"] == 9543


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    """A fresh MLflow store: its own database on the local cluster, artifacts in a tmp dir."""
    import mlflow

    name = f"mlflow_test_{uuid.uuid4().hex[:8]}"
    uri = sqlalchemy_url(create_database(name))
    mlflow.set_tracking_uri(uri)
    artifacts = tmp_path_factory.mktemp("mlartifacts")
    mlflow.create_experiment("stockmind-sentiment", artifact_location=artifacts.as_uri())
    yield uri
    mlflow.set_tracking_uri(None)
    drop_database(name)


@pytest.mark.slow
def test_train_register_gate_and_load_by_alias(data, tracking, tmp_path, monkeypatch):
    import mlflow
    from mlflow import MlflowClient
    from stockmind_ml.sentiment.train import train_sentiment

    uri = tracking
    first = train_sentiment(data, uri, write_artifact=tmp_path, config=SentimentConfig.quick())
    client = MlflowClient(uri)
    run = client.get_run(first["run_id"])
    for name in ("local_accuracy", "local_macro_f1", "vader_accuracy", "vader_macro_f1",
                 "majority_accuracy", "local_f1_negative", "local_f1_neutral", "local_f1_positive"):  # fmt: skip
        assert f"validation_{name}" in run.data.metrics
    assert run.data.metrics["validation_local_macro_f1"] >= 0.75
    assert run.data.params["c"] == "5.0" and run.data.params["preprocessing_version"]
    assert run.data.tags["promotion"] == first["why"]
    paths = {a.path for a in client.list_artifacts(first["run_id"])}
    assert "confusion_matrix.json" in paths
    matrix = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/confusion_matrix.json")
    assert np.array(matrix["local"]["matrix"]).sum() == 2388
    assert first["version"] == 1 and first["promoted"], first["why"]  # beats VADER, no champion
    assert int(client.get_model_version_by_alias(MODEL_NAME, "challenger").version) == 1
    assert int(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == 1

    # the same data and configuration again: equal, not better, so it stays challenger
    second = train_sentiment(data, uri, config=SentimentConfig.quick())
    assert second["version"] == 2 and not second["promoted"]
    assert "not better than the champion" in second["why"]
    assert client.get_run(second["run_id"]).data.tags["promotion"] == second["why"]
    assert int(client.get_model_version_by_alias(MODEL_NAME, "challenger").version) == 2
    assert int(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == 1

    texts = [*HEADLINES, "$ACME - Acme cut at Credit Suisse https://t.co/x"]
    in_memory = LinearSentiment.load(tmp_path).probabilities(texts)
    champion = load_local(uri)
    assert champion.model == f"{MODEL_NAME}/1" and champion.source.endswith("@champion")
    assert np.array_equal(champion.linear.probabilities(texts), in_memory)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert load_local(alias="challenger").model == f"{MODEL_NAME}/2"
    assert load_local(uri, alias="no-such-alias").model.startswith(f"{MODEL_NAME}/shipped-")
    served = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    frame = served.predict(pd.DataFrame({"text": texts}))
    assert list(frame.columns) == ["label", "score"]
    assert list(frame["label"]) == [a["label"] for a in champion.classify(texts)]


def test_an_unreachable_server_falls_back_to_the_shipped_model(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # nothing listens there
    local = load_local()
    assert local.model == load_shipped().model and local.source == str(SHIPPED)
    assert os.environ["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:9"
