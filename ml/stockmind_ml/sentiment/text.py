"""Text → n-grams, shared by training and inference so both see the same features.

The training data are finance tweets; the texts we score are ordinary headlines from many
publishers. So what is specific to tweets is replaced by a placeholder before anything is
counted: links (``xurl``), @handles (``xuser``), $cashtags (``xticker``) and numbers
(``xnum``); ``#`` is dropped (the word stays); HTML entities and typographic quotes are
normalised. A headline without any of these then looks like a tweet stripped of them,
and the model cannot learn "has a link" or "names $BYND" as a sentiment cue.

The analyzers are plain functions (no sklearn): the vectorizers are given them as
callables when training, and the shipped artifact is scored with the very same code, so
the features cannot drift between the two. Changing anything here means bumping
``config.PREPROCESSING_VERSION``.
"""

from __future__ import annotations

import html
import re

URL = re.compile(r"https?://\S+|www\.\S+", re.I)
CASHTAG = re.compile(r"\$[A-Za-z][A-Za-z0-9._]{0,9}\b")
HANDLE = re.compile(r"@\w+")
NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "…": " ", "#": " "})
WORD = re.compile(r"(?u)\b\w\w+\b")  # sklearn's default token pattern
SPACES = re.compile(r"\s+")


def preprocess(text: str) -> str:
    """Lower-cased text with the tweet artefacts replaced by placeholder tokens."""
    text = html.unescape(text or "")
    text = URL.sub(" xurl ", text)
    text = CASHTAG.sub(" xticker ", text)
    text = HANDLE.sub(" xuser ", text)
    text = NUMBER.sub(" xnum ", text)
    return SPACES.sub(" ", text.translate(QUOTES)).strip().lower()


def word_ngrams(text: str, ngrams: tuple[int, int] = (1, 2), clean: bool = False) -> list[str]:
    """Word n-grams of the preprocessed text (tokens of two or more word characters);
    ``clean=True``: ``text`` is already preprocessed."""
    tokens = WORD.findall(text if clean else preprocess(text))
    low, high = ngrams
    grams = tokens if low == 1 else []
    for n in range(max(low, 2), high + 1):
        grams.extend([" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)])
    return grams


def word_char_ngrams(word: str, ngrams: tuple[int, int] = (2, 5)) -> list[str]:
    """One word's character n-grams, the word padded with a space each side."""
    low, high = ngrams
    padded = f" {word} "
    size = len(padded)
    grams: list[str] = []
    for n in range(low, high + 1):
        if size <= n:  # the whole padded word, once
            grams.append(padded)
            break
        grams.extend([padded[i : i + n] for i in range(size - n + 1)])
    return grams


def char_ngrams(text: str, ngrams: tuple[int, int] = (2, 5)) -> list[str]:
    """Character n-grams inside word boundaries (sklearn's ``char_wb``): robust to
    inflections and spelling ("plunges", "plunging"). A text's n-grams are those of its
    words, which lets the scorer cache them per word."""
    return [g for word in preprocess(text).split() for g in word_char_ngrams(word, ngrams)]


class WordAnalyzer:
    """A picklable callable for ``TfidfVectorizer(analyzer=...)``."""

    def __init__(self, ngrams: tuple[int, int]):
        self.ngrams = tuple(ngrams)

    def __call__(self, text: str) -> list[str]:
        return word_ngrams(text, self.ngrams)


class CharAnalyzer:
    """A picklable callable for ``TfidfVectorizer(analyzer=...)``."""

    def __init__(self, ngrams: tuple[int, int]):
        self.ngrams = tuple(ngrams)

    def __call__(self, text: str) -> list[str]:
        return char_ngrams(text, self.ngrams)
