"""GeminiScorer against a local stand-in for Gemini's REST API, and the fallback combinator.

The stand-in is a real HTTP server speaking ``POST /v1beta/models/{model}:generateContent``
with the shapes Google returns (candidates/usageMetadata on success, ``{"error": …}``
on failure); the SDK is pointed at it with ``base_url``, so our client code, the SDK and
httpx all run.  Each test scripts the replies and reads back the recorded requests.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from stockmind.sentiment import LABELS, Scored, score_with_fallback
from stockmind.sentiment.gemini import GeminiScorer, GeminiUnavailable

KEY = "AIzaSy-test-SECRET-key-0123456789"
MODEL_PATH = "/v1beta/models/gemini-2.5-flash:generateContent"
#: the one route the stand-in serves, as Gemini's REST API names it
ENDPOINT = re.compile(r"/v1beta/models/[\w.-]+:generateContent")

#: a reply: (HTTP status, body — a dict sent as JSON, or the model's raw text, seconds to wait)
Reply = tuple[int, Any, float]
Responder = Callable[[list[dict]], Reply]


def judge(text: str) -> tuple[str, float]:
    """The stand-in model: a keyword rule is enough to tell the answers apart."""
    lowered = text.lower()
    if "beats" in lowered or "record" in lowered:
        return "positive", 0.8
    if "misses" in lowered or "recall" in lowered:
        return "negative", -0.7
    return "neutral", 0.0


def answer(articles: list[dict]) -> list[dict]:
    return [
        {
            "id": a["id"],
            "sentiment": judge(a["text"])[0],
            "score": judge(a["text"])[1],
            "analysis": f"Article {a['id']} read for shareholders.",
        }
        for a in articles
    ]


def candidate(text: str) -> dict:
    """Gemini's success shape, with the model's JSON as one text part."""
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": text}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 120,
            "candidatesTokenCount": 60,
            "totalTokenCount": 180,
        },
        "modelVersion": "gemini-2.5-flash",
    }


def good(articles: list[dict]) -> Reply:
    return 200, candidate(json.dumps(answer(articles))), 0.0


def text_reply(text: str) -> Responder:
    return lambda articles: (200, candidate(text), 0.0)


def items_reply(items: list[dict]) -> Responder:
    return lambda articles: (200, candidate(json.dumps(items)), 0.0)


def error(code: int, status: str, message: str) -> Responder:
    return lambda articles: (
        code,
        {"error": {"code": code, "message": message, "status": status}},
        0.0,
    )


RATE_LIMITED = error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
UNAVAILABLE = error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")


@dataclass
class FakeGemini:
    url: str
    #: replies in order; once used up, every request gets ``good``
    script: list[Responder] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)

    def articles(self, n: int) -> list[dict]:
        return self.requests[n]["articles"]


@pytest.fixture
def gemini() -> Iterator[FakeGemini]:
    fake = FakeGemini(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            articles = json.loads(body["contents"][0]["parts"][0]["text"])
            fake.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body,
                    "articles": articles,
                }
            )
            if not ENDPOINT.fullmatch(self.path):
                status, payload, delay = error(404, "NOT_FOUND", "Not found.")(articles)
            else:
                status, payload, delay = (fake.script.pop(0) if fake.script else good)(articles)
            time.sleep(delay)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def scorer(fake: FakeGemini, **kwargs: Any) -> GeminiScorer:
    options = {"api_key": KEY, "base_url": fake.url, "timeout_s": 0.5, "backoff_s": 0.01}
    return GeminiScorer(**(options | kwargs))


class LocalStandIn:
    """A stand-in for the local model, for the combinator's tests only: always answers."""

    name = "local"
    model = "stand-in"

    def __init__(self, answers: bool = True) -> None:
        self.asked: list[list[str]] = []
        self.answers = answers

    def classify(self, texts: list[str]) -> list[Scored | None]:
        self.asked.append(list(texts))
        return [Scored(*judge(t), self.name, self.model) if self.answers else None for t in texts]


NEWS = [
    "Acme beats earnings estimates and raises guidance",
    "Globex misses revenue forecast as demand slows",
    "Initech holds its annual meeting on Tuesday",
]


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
    local = LocalStandIn()
    gemini.script = [good, text_reply("not json at all")]
    scores, counts = score_with_fallback(texts, scorer(gemini, batch_size=2), local)
    assert counts == {"gemini": 2, "local": 2}
    assert local.asked == [texts[2:]]
    assert [x.scorer for x in scores] == ["gemini", "gemini", "local", "local"]
    assert scores[3].label == "negative"


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


def test_fallback_fills_exactly_the_gaps() -> None:
    class Partial:
        name, model = "gemini", "gemini-2.5-flash"

        def classify(self, texts: list[str]) -> list[Scored | None]:
            return [
                Scored("positive", 0.5, self.name, self.model) if i % 2 == 0 else None
                for i in range(len(texts))
            ]

    local = LocalStandIn()
    texts = [*NEWS, "Hooli recall"]
    scores, counts = score_with_fallback(texts, Partial(), local)
    assert counts == {"gemini": 2, "local": 2}
    assert local.asked == [[texts[1], texts[3]]]
    assert [s.scorer for s in scores] == ["gemini", "local", "gemini", "local"]
    assert all(s.label in LABELS for s in scores)


def test_without_a_primary_everything_goes_to_the_fallback() -> None:
    local = LocalStandIn()
    scores, counts = score_with_fallback(NEWS, None, local)
    assert counts == {"local": 3} and local.asked == [NEWS]
    assert [s.label for s in scores] == ["positive", "negative", "neutral"]
    assert score_with_fallback([], None, local) == ([], {})


def test_fallback_must_always_answer() -> None:
    with pytest.raises(ValueError, match="local"):
        score_with_fallback(NEWS, None, LocalStandIn(answers=False))


def test_scored_refuses_bad_values() -> None:
    with pytest.raises(ValueError):
        Scored("bullish", 0.1, "gemini", "m")
    with pytest.raises(ValueError):
        Scored("positive", 1.5, "gemini", "m")


def test_a_timeout_falls_back_to_the_real_local_model(gemini: FakeGemini) -> None:
    """The news DAG's pairing, with our real local model (the shipped artifact) behind a
    Gemini that times out on the first batch and answers the second."""
    from stockmind_ml.sentiment.tasks import LocalScorer

    gemini.script = [lambda articles: (*good(articles)[:2], 2.0)]
    texts = [*NEWS, "Globex recalls its flagship product"]
    scored, used = score_with_fallback(texts, scorer(gemini, batch_size=2), LocalScorer(None))
    assert used == {"local": 2, "gemini": 2}
    assert [s.scorer for s in scored] == ["local", "local", "gemini", "gemini"]
    assert scored[0].label == "positive" and scored[0].model.startswith("stockmind-sentiment/")
    assert scored[3].label == "negative" and scored[3].analysis
