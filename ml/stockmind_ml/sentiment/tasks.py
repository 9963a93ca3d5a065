"""What the news DAG's scoring task and ``stockmind sentiment classify`` call: the
scorers chosen by ``STOCKMIND_SENTIMENT_SCORER`` (Gemini first when it has a key, the
local model for whatever Gemini did not score), then the core stores the scores and
announces the aggregates that changed.

The local model is loaded by alias from MLflow when a tracking server is configured,
else the artifact shipped in the repository: scoring never needs the network.
"""

from __future__ import annotations

from stockmind.db import warehouse_dsn
from stockmind.sentiment.base import Scored
from stockmind.sentiment.fallback import score_with_fallback
from stockmind.settings import get_settings


class LocalScorer:
    """The local model as a core ``Scorer`` (it always answers)."""

    name = "local"

    def __init__(self, tracking_uri: str | None = None):
        from stockmind_ml.sentiment.local import load_local

        self._local = load_local(tracking_uri)
        self.model = self._local.model

    def classify(self, texts: list[str]) -> list[Scored | None]:
        answers = self._local.classify(list(texts))
        return [
            Scored(r["label"], max(-1.0, min(1.0, float(r["score"]))), "local", r["model"])
            for r in answers
        ]


def scorers(mode: str | None = None, api_key: str | None = None, tracking_uri: str | None = None):
    """(primary or None, fallback) for ``mode`` auto | gemini | local.

    ``auto`` uses Gemini when a key is configured and silently the local model otherwise;
    ``gemini`` insists (no key is an error, failures still fall back per text)."""
    from stockmind.sentiment.gemini import GeminiScorer, GeminiUnavailable

    mode = mode or get_settings().sentiment_scorer
    local = LocalScorer(tracking_uri)
    if mode == "local":
        return None, local
    try:
        return GeminiScorer(api_key=api_key), local
    except GeminiUnavailable:
        if mode == "gemini":
            raise
        return None, local


def score_news(
    dsn: str | None = None, mode: str | None = None, api_key: str | None = None,
    limit: int = 2000, article_ids: list[str] | None = None,
) -> dict:  # fmt: skip
    """Score the articles without a score (or ``article_ids``), store and announce."""
    from stockmind.sentiment.scores import store_scores, unscored_articles

    dsn = dsn or warehouse_dsn()
    todo = unscored_articles(dsn, limit=limit, article_ids=article_ids)
    if not todo:
        return {"stored": 0, "by_scorer": {}, "announced": 0, "symbols": []}
    primary, fallback = scorers(mode, api_key)
    titles = [title for _, title, _ in todo]
    # Gemini reads the headline and its summary; the local model the headline it was
    # trained on (headlines and tweets)
    full = [f"{title}\n{summary}" if summary else title for _, title, summary in todo]
    scored, used = score_with_fallback(full, primary, fallback, fallback_texts=titles)
    pairs = [(article_id, s) for (article_id, _, _), s in zip(todo, scored, strict=True)]
    result = store_scores(dsn, pairs)
    if primary is not None:
        result["gemini"] = {"requests": primary.requests_made, "failures": dict(primary.failures)}
    result["used"] = used
    return result


def classify_lines(lines, mode: str = "local") -> list[dict]:
    """``stockmind sentiment classify``: one JSON-able dict per non-empty input line."""
    texts = [line.rstrip("\n") for line in lines if line.strip()]
    primary, fallback = scorers(mode)
    scored, _ = score_with_fallback(texts, primary, fallback) if texts else ([], {})
    out = []
    for text, s in zip(texts, scored, strict=True):
        entry = {"text": text, "label": s.label, "score": round(s.score, 4), "scorer": s.scorer}
        out.append(entry | {"model": s.model} | ({"analysis": s.analysis} if s.analysis else {}))
    return out
