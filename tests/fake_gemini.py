"""A stand-in for Gemini's REST API at the client boundary: a real HTTP server speaking
``POST /v1beta/models/{model}:generateContent`` with the shapes Google returns
(candidates/usageMetadata on success, ``{"error": …}`` on failure). Tests script its
replies and read back the recorded requests; the SDK is pointed at it with ``base_url``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stockmind.sentiment.gemini import GeminiScorer

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


@contextmanager
def running_fake_gemini() -> Iterator[FakeGemini]:
    """The stand-in served on a free loopback port for the length of the ``with``."""
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
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def scorer(fake: FakeGemini, **kwargs: Any) -> GeminiScorer:
    options = {"api_key": KEY, "base_url": fake.url, "timeout_s": 0.5, "backoff_s": 0.01}
    return GeminiScorer(**(options | kwargs))


NEWS = [
    "Acme beats earnings estimates and raises guidance",
    "Globex misses revenue forecast as demand slows",
    "Initech holds its annual meeting on Tuesday",
]
