"""Every text gets exactly one score: Gemini's where it answered, the local model's elsewhere."""

from __future__ import annotations

from collections import Counter

from stockmind.sentiment.base import Scored, Scorer


def score_with_fallback(
    texts: list[str],
    primary: Scorer | None,
    fallback: Scorer,
    fallback_texts: list[str] | None = None,
) -> tuple[list[Scored], dict[str, int]]:
    """Scores in text order, and how many texts each scorer (by ``name``) scored.

    The fallback is asked only about the texts the primary left unscored, so a healthy
    Gemini run costs the local model nothing.  ``primary=None`` (no API key configured)
    sends everything to the fallback.  The fallback is the local model, which must
    answer for every text: a ``None`` from it, or an answer of the wrong length, is a
    bug there and raises ``ValueError`` rather than leaving a gap in the warehouse.
    """
    texts = list(texts)
    # the fallback may read other texts of the same items (the local model: the headline
    # it was trained on; Gemini: headline and summary)
    second = list(fallback_texts) if fallback_texts is not None else texts
    if len(second) != len(texts):
        raise ValueError("fallback_texts must have one text per text")
    scores: list[Scored | None] = [None] * len(texts)
    if primary is not None and texts:
        answered = primary.classify(texts)
        _check_length(primary, answered, len(texts))
        scores = list(answered)
    missing = [i for i, scored in enumerate(scores) if scored is None]
    if missing:
        answered = fallback.classify([second[i] for i in missing])
        _check_length(fallback, answered, len(missing))
        for i, scored in zip(missing, answered, strict=True):
            if scored is None:
                raise ValueError(f"fallback scorer {fallback.name!r} gave no score for text {i}")
            scores[i] = scored
    complete = [scored for scored in scores if scored is not None]
    return complete, dict(Counter(scored.scorer for scored in complete))


def _check_length(scorer: Scorer, answered: list[Scored | None], expected: int) -> None:
    if len(answered) != expected:
        raise ValueError(
            f"scorer {scorer.name!r} returned {len(answered)} results for {expected} texts"
        )
