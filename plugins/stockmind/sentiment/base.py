"""The scorer interface: every sentiment source answers in the same shape.

A scorer may be unable to score some texts (a remote service failed, ran out of its
request budget, or answered nonsense); it says so with ``None`` in that text's place, so
the caller can hand exactly those texts to another scorer (see ``fallback``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

#: The three labels every scorer uses, from an investor's view of the company.
LABELS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class Scored:
    """One text's sentiment: a label, a signed score and who produced it.

    ``score`` runs from −1 (very negative) to 1 (very positive); ``scorer`` and ``model``
    are stored with every row so a later reader can tell Gemini's scores from the local
    model's (they are not calibrated against each other).  ``analysis`` is the short
    reason a language model gives; the local model has none.
    """

    label: str
    score: float
    scorer: str
    model: str
    analysis: str | None = None

    def __post_init__(self) -> None:
        # Refuse a bad row where it is made, not where it is written to the warehouse.
        if self.label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, got {self.label!r}")
        if not isinstance(self.score, int | float) or not math.isfinite(self.score):
            raise ValueError(f"score must be a finite number, got {self.score!r}")
        if not -1.0 <= self.score <= 1.0:
            raise ValueError(f"score must lie in [-1, 1], got {self.score!r}")


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores a batch of texts: Gemini in the core, the local model in ml."""

    #: short source name stored with each score ("gemini", "finbert", …)
    name: str
    #: the model behind it (e.g. "gemini-2.5-flash"), stored with each score
    model: str

    def classify(self, texts: list[str]) -> list[Scored | None]:
        """One entry per text, in order; ``None`` where this scorer could not score it."""
        ...
