"""GeminiScorer against a local stand-in for Gemini's REST API, with our real local model
as the fallback (the combinator's own tests: test_sentiment_fallback.py).

The stand-in is a real HTTP server speaking ``POST /v1beta/models/{model}:generateContent``
with the shapes Google returns (candidates/usageMetadata on success, ``{"error": …}``
on failure); the SDK is pointed at it with ``base_url``, so our client code, the SDK and
httpx all run.  Each test scripts the replies and reads back the recorded requests.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from fake_gemini import (
    KEY,
    MODEL_PATH,
    NEWS,
    RATE_LIMITED,
    UNAVAILABLE,
    FakeGemini,
    error,
    good,
    items_reply,
    running_fake_gemini,
    scorer,
    text_reply,
)
from stockmind.sentiment import Scored, score_with_fallback
from stockmind.sentiment.gemini import GeminiScorer, GeminiUnavailable
from stockmind_ml.sentiment.tasks import LocalScorer


@pytest.fixture
def gemini() -> Iterator[FakeGemini]:
    with running_fake_gemini() as fake:
        yield fake


def test_good_batch_is_scored_with_labels_scores_and_analysis(gemini: FakeGemini) -> None:
    s = scorer(gemini)
    results = s.classify(NEWS)
    assert [r.label for r in results] == ["positive", "negative", "neutral"]
    assert [r.score for r in results] == [0.8, -0.7, 0.0]
    assert all(r.scorer == "gemini" and r.model == "gemini-2.5-flash" for r in results)
    assert results[0].analysis == "Article 0 read for shareholders."
    assert s.requests_made == 1 and not s.failures
    sent = gemini.requests[0]
    assert sent["path"] == MODEL_PATH
    assert sent["headers"]["x-goog-api-key"] == KEY
    assert [a["text"] for a in sent["articles"]] == NEWS
    config = sent["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"]["type"].upper() == "ARRAY"
    assert "investor" in json.dumps(sent["body"]["systemInstruction"])


def test_several_articles_per_request(gemini: FakeGemini) -> None:
    texts = [f"Company {i} beats estimates" for i in range(10)]
    s = scorer(gemini, batch_size=4)
    results = s.classify(texts)
    assert [len(r["articles"]) for r in gemini.requests] == [4, 4, 2]
    assert all(r is not None and r.label == "positive" for r in results)
    assert s.requests_made == 3


def test_malformed_json_leaves_the_batch_to_the_fallback(gemini: FakeGemini) -> None:
    gemini.script = [good, text_reply('[{"id": 0, "sentiment": "positive", "score": 0.')]
    s = scorer(gemini, batch_size=2)
    texts = [*NEWS, "Hooli recall of phones widens"]
    assert [r is None for r in s.classify(texts)] == [False, False, True, True]
    assert s.failures["malformed"] == 1
    gemini.script = [good, text_reply("not json at all")]
    local = LocalScorer(None)  # our real local model (the shipped artifact)
    scores, counts = score_with_fallback(texts, scorer(gemini, batch_size=2), local)
    assert counts == {"gemini": 2, "local": 2}
    assert [x.scorer for x in scores] == ["gemini", "gemini", "local", "local"]
    assert scores[2].label == "neutral" and scores[2].model == local.model


def test_reply_that_is_not_an_array_is_malformed(gemini: FakeGemini) -> None:
    gemini.script = [text_reply('{"id": 0, "sentiment": "positive"}')]
    s = scorer(gemini)
    assert s.classify(NEWS) == [None, None, None]
    assert s.failures["malformed"] == 1


def test_rate_limited_then_success(gemini: FakeGemini) -> None:
    gemini.script = [RATE_LIMITED]
    s = scorer(gemini)
    results = s.classify(NEWS)
    assert all(r is not None for r in results)
    assert len(gemini.requests) == 2 == s.requests_made
    assert s.failures == {"rate_limited": 1}


def test_server_errors_until_retries_run_out(gemini: FakeGemini) -> None:
    gemini.script = [
        UNAVAILABLE,
        error(500, "INTERNAL", "An internal error has occurred."),
        UNAVAILABLE,
    ]
    s = scorer(gemini, retries=2)
    assert s.classify(NEWS) == [None, None, None]
    assert len(gemini.requests) == 3
    assert s.failures == {"server_error": 3}


def test_client_error_is_not_retried(gemini: FakeGemini) -> None:
    gemini.script = [error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")]
    s = scorer(gemini)
    assert s.classify(NEWS) == [None, None, None]
    assert len(gemini.requests) == 1 and s.failures == {"client_error": 1}


def test_timeout_gives_up_quickly(gemini: FakeGemini) -> None:
    gemini.script = [lambda articles: (*good(articles)[:2], 2.0)]
    s = scorer(gemini, timeout_s=0.5)
    started = time.monotonic()
    assert s.classify(NEWS) == [None, None, None]
    assert time.monotonic() - started < 1.5
    assert s.failures == {"timeout": 1} and len(gemini.requests) == 1


def test_no_key_means_gemini_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(GeminiUnavailable, match="GEMINI_API_KEY"):
        GeminiScorer(api_key="")
    monkeypatch.setenv("GEMINI_API_KEY", "   ")
    with pytest.raises(GeminiUnavailable):
        GeminiScorer()


def test_key_and_model_come_from_the_environment(
    gemini: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    monkeypatch.setenv("GEMINI_MODEL", "gemini-2.5-flash-lite")
    s = GeminiScorer(base_url=gemini.url, timeout_s=0.5)
    assert s.name == "gemini" and s.model == "gemini-2.5-flash-lite"
    assert s.classify(NEWS[:1])[0].model == "gemini-2.5-flash-lite"
    assert gemini.requests[0]["path"] == "/v1beta/models/gemini-2.5-flash-lite:generateContent"
    assert gemini.requests[0]["headers"]["x-goog-api-key"] == KEY


def test_budget_spent_leaves_later_texts_unscored(gemini: FakeGemini) -> None:
    texts = [f"Company {i} beats estimates" for i in range(6)]
    s = scorer(gemini, batch_size=2, max_requests=2)
    results = s.classify(texts)
    assert [r is not None for r in results] == [True] * 4 + [False] * 2
    assert s.classify(NEWS) == [None, None, None]
    assert len(gemini.requests) == 2 == s.requests_made
    assert s.failures["budget_spent"] == 3


def test_retries_count_against_the_budget(gemini: FakeGemini) -> None:
    gemini.script = [RATE_LIMITED, RATE_LIMITED]
    s = scorer(gemini, max_requests=2, retries=5)
    assert s.classify(NEWS) == [None, None, None]
    assert len(gemini.requests) == 2
    assert s.failures == {"rate_limited": 2, "budget_spent": 1}


def test_a_bad_item_loses_only_itself(gemini: FakeGemini) -> None:
    texts = [f"Company {i} beats estimates" for i in range(4)]
    ok = {"sentiment": "positive", "score": 0.6, "analysis": "Good news."}
    gemini.script = [
        items_reply([{"id": 0, **ok}, {**ok, "id": 1, "sentiment": "bullish"}, ok, {"id": 3, **ok}])
    ]
    s = scorer(gemini)
    results = s.classify(texts)
    assert [r is not None for r in results] == [True, False, False, True]
    assert s.failures == {"invalid_item": 2, "missing_item": 2}


@pytest.mark.parametrize(
    "bad",
    [
        {"id": 1, "sentiment": "positive", "score": 1.7, "analysis": "Off the scale."},
        {"id": 1, "sentiment": "positive", "score": -0.4, "analysis": "Sign contradicts label."},
        {"id": 7, "sentiment": "neutral", "score": 0.0, "analysis": "Not in this batch."},
    ],
)
def test_out_of_range_contradictory_or_foreign_items_are_rejected(
    gemini: FakeGemini, bad: dict
) -> None:
    items = [{"id": 0, "sentiment": "negative", "score": -0.2, "analysis": "Weak."}, bad]
    gemini.script = [items_reply(items)]
    results = scorer(gemini).classify(NEWS[:2])
    assert results[0] == Scored("negative", -0.2, "gemini", "gemini-2.5-flash", "Weak.")
    assert results[1] is None


def test_two_answers_for_one_article_are_both_dropped(gemini: FakeGemini) -> None:
    ok = {"sentiment": "neutral", "score": 0.0, "analysis": "Routine."}
    gemini.script = [items_reply([{"id": 0, **ok}, {"id": 1, **ok}, {"id": 1, **ok, "score": 0.1}])]
    s = scorer(gemini)
    assert [r is not None for r in s.classify(NEWS[:2])] == [True, False]


def test_blank_texts_are_not_sent(gemini: FakeGemini) -> None:
    s = scorer(gemini)
    results = s.classify(["", NEWS[0], "   "])
    assert results[0] is None and results[2] is None and results[1].label == "positive"
    assert [a["text"] for a in gemini.articles(0)] == [NEWS[0]]
    assert s.classify([]) == [] and len(gemini.requests) == 1


def test_auth_error_stops_further_requests(gemini: FakeGemini) -> None:
    gemini.script = [error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.")]
    s = scorer(gemini, batch_size=1)
    assert s.classify(NEWS) == [None, None, None]
    assert len(gemini.requests) == 1
    assert s.failures == {"auth_error": 1, "budget_spent": 2}


def test_the_key_never_leaks(gemini: FakeGemini, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # the service even echoes the key back in an error body: it must still not be logged
    gemini.script = [
        RATE_LIMITED,
        UNAVAILABLE,
        error(400, "INVALID_ARGUMENT", f"API key not valid: {KEY}"),
        text_reply("garbage"),
        lambda articles: (*good(articles)[:2], 2.0),
    ]
    s = scorer(gemini, batch_size=1)
    s.classify([*NEWS, "Acme record quarter", "Acme beats again"])
    assert s.failures["rate_limited"] and s.failures["timeout"] and s.failures["malformed"]
    assert caplog.records and KEY not in caplog.text
    assert KEY not in repr(s) and KEY not in str(s) and "gemini-2.5-flash" in repr(s)
    assert KEY not in repr(vars(s))
    with pytest.raises(GeminiUnavailable) as caught:
        GeminiScorer(api_key=" ", base_url=gemini.url)
    assert KEY not in str(caught.value)


def test_a_timeout_falls_back_to_the_real_local_model(gemini: FakeGemini) -> None:
    """The news DAG's pairing, with our real local model (the shipped artifact) behind a
    Gemini that times out on the first batch and answers the second."""
    gemini.script = [lambda articles: (*good(articles)[:2], 2.0)]
    texts = [*NEWS, "Globex recalls its flagship product"]
    scored, used = score_with_fallback(texts, scorer(gemini, batch_size=2), LocalScorer(None))
    assert used == {"local": 2, "gemini": 2}
    assert [s.scorer for s in scored] == ["local", "local", "gemini", "gemini"]
    assert scored[0].label == "positive" and scored[0].model.startswith("stockmind-sentiment/")
    assert scored[3].label == "negative" and scored[3].analysis
