"""The fallback combinator: every text gets exactly one score — the primary's (Gemini)
where it answered, our real local model's (the shipped artifact) for the rest."""

import pytest
from stockmind.sentiment import LABELS, Scored, score_with_fallback
from stockmind_ml.sentiment.tasks import LocalScorer

NEWS = [
    "Acme beats earnings estimates and raises guidance",
    "Globex misses revenue forecast as demand slows",
    "Initech holds its annual meeting on Tuesday",
]


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> LocalScorer:
    return LocalScorer(None)  # no tracking URI: the shipped artifact


class EveryOther:
    """A remote scorer (Gemini's place) that answered only every other text."""

    name, model = "gemini", "gemini-2.5-flash"

    def classify(self, texts: list[str]) -> list[Scored | None]:
        return [
            Scored("positive", 0.5, self.name, self.model) if i % 2 == 0 else None
            for i in range(len(texts))
        ]


def test_fallback_fills_exactly_the_gaps(local):
    texts = [*NEWS, "Hooli recalls its phones"]
    scores, counts = score_with_fallback(texts, EveryOther(), local)
    assert counts == {"gemini": 2, "local": 2}
    assert [s.scorer for s in scores] == ["gemini", "local", "gemini", "local"]
    assert scores[1].label == "negative" and scores[1].model == local.model
    assert all(s.label in LABELS and -1 <= s.score <= 1 for s in scores)


def test_without_a_primary_everything_goes_to_the_local_model(local):
    scores, counts = score_with_fallback(NEWS, None, local)
    assert counts == {"local": 3}
    assert [s.label for s in scores] == ["positive", "negative", "neutral"]
    assert score_with_fallback([], None, local) == ([], {})


def test_a_fallback_that_does_not_answer_is_an_error():
    class Broken:  # the error path needs a fallback that fails: no real one does
        name, model = "local", "broken"

        def classify(self, texts):
            return [None] * len(texts)

    with pytest.raises(ValueError, match="local"):
        score_with_fallback(NEWS, None, Broken())


def test_scored_refuses_bad_values():
    with pytest.raises(ValueError):
        Scored("bullish", 0.1, "gemini", "m")
    with pytest.raises(ValueError):
        Scored("positive", 1.5, "gemini", "m")


def test_the_fallback_can_read_other_texts_of_the_same_items(local):
    """Gemini reads headline and summary; the local model the headline alone."""
    full = [f"{t}\nA longer summary of the story." for t in NEWS]
    scores, counts = score_with_fallback(full, None, local, fallback_texts=NEWS)
    assert counts == {"local": 3}
    assert [s.label for s in scores] == ["positive", "negative", "neutral"]
    with pytest.raises(ValueError, match="one text per text"):
        score_with_fallback(full, None, local, fallback_texts=NEWS[:2])
