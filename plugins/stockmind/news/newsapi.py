"""NewsAPI.org's ``/v2/everything`` search (source ``newsapi``).

One request per symbol: ``q`` is the company's name when the universe knows it (a bare
ticker such as ``V`` or ``KO`` matches far too much), else the ticker itself. Status
handling follows NewsAPI's documented errors (``{"status": "error", "code", "message"}``):
HTTP 429 (``rateLimited``), 5xx, timeouts and connection failures are *transient*; other
errors are the symbol's error, and a rejected key (``apiKey*`` codes) stops the run's
remaining requests, since every one of them would fail the same way.

The key travels only in the ``X-Api-Key`` header and is scrubbed from every error text
and log line (exception messages can echo request details). Removed articles (title
``[Removed]``) are skipped: they carry no story.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Mapping, Sequence

import requests

from stockmind.news.base import Article, NewsFetch, in_window, parse_timestamp, to_utc

log = logging.getLogger(__name__)

REMOVED = "[Removed]"
COMPANY_SUFFIX = re.compile(
    r"(,?\s+(Inc\.?|Incorporated|Corporation|Corp\.?|Co\.?|Company|Ltd\.?|plc|Holdings))+$"
    r"|\s*&\s*Co\.?$",
    re.IGNORECASE,
)


class _Failure(Exception):
    def __init__(self, message: str, transient: bool = False, fatal: bool = False):
        super().__init__(message)
        self.transient = transient
        self.fatal = fatal  # the key itself was refused: no point asking again


def short_name(name: str) -> str:
    """``Apple Inc.`` → ``Apple``; ``JPMorgan Chase & Co.`` → ``JPMorgan Chase``."""
    previous = None
    while previous != name:
        previous, name = name, COMPANY_SUFFIX.sub("", name).strip()
    return name.removesuffix(".com") or previous


def _default_names() -> dict[str, str]:
    from stockmind.universe import load_sample_profiles

    return {s: p["name"] for s, p in load_sample_profiles().items() if p.get("name")}


def _iso(value: dt.datetime) -> str:
    return to_utc(value).strftime("%Y-%m-%dT%H:%M:%S")


class NewsApiProvider:
    """NewsAPI.org client; ``api_key`` defaults to the ``NEWS_API_KEY`` environment."""

    name = "newsapi"

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = "https://newsapi.org",
        timeout_s: float = 10,
        page_size: int = 50,
        names: Mapping[str, str] | None = None,
        max_requests: int | None = None,
    ):
        self._api_key = api_key if api_key is not None else os.environ.get("NEWS_API_KEY")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.page_size = page_size
        self._names = dict(names) if names is not None else None
        self._session = requests.Session()
        #: requests per fetch (NEWS_API_MAX_REQUESTS, default 10): NewsAPI's plans count
        #: requests a day (100 on the developer plan), and a run every 30 minutes asks once
        #: per symbol; the symbols beyond it wait for a later run (the lookback covers them)
        self.max_requests = max_requests or int(os.environ.get("NEWS_API_MAX_REQUESTS", "10"))

    def __repr__(self) -> str:  # never the key
        return f"NewsApiProvider(base_url={self.base_url!r}, page_size={self.page_size})"

    def query_for(self, symbol: str) -> str:
        """The search phrase for a symbol: the quoted company name, else the ticker."""
        if self._names is None:
            self._names = _default_names()
        name = self._names.get(symbol)
        return f'"{short_name(name)}"' if name else symbol

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _get(self, symbol: str, since: dt.datetime, until: dt.datetime) -> dict:
        params = {
            "q": self.query_for(symbol),
            "from": _iso(since),
            "to": _iso(until),
            "language": "en",
            "sortBy": "publishedAt",
            "pageSize": str(self.page_size),
        }
        try:
            response = self._session.get(
                f"{self.base_url}/v2/everything",
                params=params,
                headers={"X-Api-Key": self._api_key or ""},
                timeout=self.timeout_s,
            )
        except requests.Timeout as exc:
            raise _Failure(f"timed out after {self.timeout_s}s", transient=True) from exc
        except requests.RequestException as exc:
            raise _Failure(f"request failed: {type(exc).__name__}", transient=True) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        status = response.status_code
        if status == 200 and body.get("status") == "ok":
            return body
        code = str(body.get("code") or "")
        message = f"HTTP {status} {code}: {body.get('message') or response.reason or ''}".strip()
        if status == 200:
            message = f"HTTP 200 without status ok: {str(body)[:200]}"
        transient = status == 429 or status >= 500 or code == "rateLimited"
        raise _Failure(message[:500], transient=transient, fatal=code.startswith("apiKey"))

    def _articles(self, body: dict, symbol: str) -> list[Article]:
        articles = []
        for item in body.get("articles") or []:
            if not isinstance(item, dict) or (item.get("title") or "").strip() == REMOVED:
                continue
            source = item.get("source")
            articles.append(
                Article(
                    source=self.name,
                    title=item.get("title"),
                    summary=item.get("description"),
                    publisher=source.get("name") if isinstance(source, dict) else None,
                    url=item.get("url"),
                    published_at=parse_timestamp(item.get("publishedAt")),
                    symbols=(symbol,),
                )
            )
        return articles

    def fetch(self, symbols: Sequence[str], since: dt.datetime, until: dt.datetime) -> NewsFetch:
        result = NewsFetch()
        pending = list(dict.fromkeys(s.strip().upper() for s in symbols))
        if not self._api_key:
            result.errors = dict.fromkeys(pending, "NEWS_API_KEY is not set")
            return result
        if len(pending) > self.max_requests:  # rotate by half hour: every symbol gets turns
            start = int(to_utc(until).timestamp()) // 1800 % len(pending)
            pending = pending[start:] + pending[:start]
            for symbol in pending[self.max_requests :]:
                result.errors[symbol] = f"not requested: budget of {self.max_requests} spent"
                result.transient.add(symbol)
            pending = pending[: self.max_requests]
        for index, symbol in enumerate(pending):
            try:
                body = self._get(symbol, since, until)
            except _Failure as failure:
                error = self._scrub(str(failure))
                result.errors[symbol] = error
                if failure.transient:
                    result.transient.add(symbol)
                log.warning("newsapi %s: %s", symbol, error)
                if failure.fatal:
                    for rest in pending[index + 1 :]:
                        result.errors[rest] = f"not requested: {error}"
                    break
                continue
            result.articles.extend(
                a for a in self._articles(body, symbol) if in_window(a, since, until)
            )
        return result
