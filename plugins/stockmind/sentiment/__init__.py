"""Scorers for news sentiment: Gemini first, a local model as the fallback.

Gemini (``gemini.GeminiScorer``) reads each article the way an investor in the named
company would and gives a label, a score in [−1, 1] and a one-line reason.  It is a
remote, rate-limited service, so it fails soft: whatever it cannot score comes back as
``None`` and ``fallback.score_with_fallback`` hands exactly those texts to the local
model, so every article ends up with one score and the scorer that produced it.

The local model lives in ``stockmind_ml.sentiment`` and is passed in by the caller (a
DAG task through an ``ml`` entry point): this core package never imports ``ml``, nor
Airflow, Flask or the heavy ML stack.  Both meet at the ``Scorer`` protocol in ``base``.
"""

from __future__ import annotations

from stockmind.sentiment.base import LABELS, Scored, Scorer
from stockmind.sentiment.fallback import score_with_fallback

__all__ = ["LABELS", "Scored", "Scorer", "score_with_fallback"]
