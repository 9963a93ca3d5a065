"""The lexicon baseline: VADER (vaderSentiment, its lexicon ships in the package — no
download). The local model must beat it to be promoted; the benchmark reports both.

VADER was made for social-media language, not finance: "shares plunge after profit
warning" scores positive ("profit"), which is why it is the baseline and not the model.
Thresholds are VADER's own (compound ≥ 0.05 positive, ≤ −0.05 negative).
"""

from __future__ import annotations

from importlib import metadata

POSITIVE, NEGATIVE = 0.05, -0.05


def label_of(compound: float) -> str:
    if compound >= POSITIVE:
        return "positive"
    if compound <= NEGATIVE:
        return "negative"
    return "neutral"


class VaderSentiment:
    """VADER with the local model's ``classify`` shape (scorer ``vader``)."""

    name = "vader"

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()
        self.model = f"vaderSentiment-{metadata.version('vaderSentiment')}"

    def compounds(self, texts: list[str]) -> list[float]:
        return [float(self._analyzer.polarity_scores(t or "")["compound"]) for t in texts]

    def classify(self, texts: list[str]) -> list[dict]:
        """One ``{label, score, scorer, model}`` per text; score is VADER's compound."""
        return [
            {"label": label_of(c), "score": c, "scorer": self.name, "model": self.model}
            for c in self.compounds(list(texts))
        ]


def load_vader() -> VaderSentiment:
    return VaderSentiment()
