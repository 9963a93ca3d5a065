"""An offline, deterministic news wire (source ``sample``) for demos, tests and CI.

Every item is plainly synthetic: publisher "StockMind Sample Wire", URLs under
``https://news.sample.stockmind.invalid/`` (``.invalid`` can never resolve) and summaries
ending "(synthetic sample headline)". Each symbol gets 1–3 stories per trading day,
published between 06:30 and 19:30 New York time; everything about a (symbol, day) —
count, times, tone, template, numbers — comes from a generator seeded by the pair, so a
rerun delivers the same items (and deduplication holds) whatever window asks for them.

The tone mix is about 40 % positive, 35 % neutral, 25 % negative, in ordinary newswire
phrasing (earnings beats and misses, guidance, rating changes, buybacks, lawsuits…) so
a finance sentiment model should score them as intended. ``intended_label`` recovers a
story's tone from its URL alone — the label is never stored with the article.

Headlines carry numbers, firms, quarters and dates, so repeats are rare; a repeat of
the same headline for a symbol is merged by the content hash like real syndication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from stockmind.news.base import Article, NewsFetch, to_utc
from stockmind.news.newsapi import short_name
from stockmind.trading_calendar import trading_days

PUBLISHER = "StockMind Sample Wire"
BASE_URL = "https://news.sample.stockmind.invalid"
SUFFIX = "(synthetic sample headline)"
NY = ZoneInfo("America/New_York")
LABELS = ("positive", "neutral", "negative")
WEIGHTS = (0.40, 0.35, 0.25)

# (headline, summary) per tone. Fields: {co} company, {q} quarter (adjective), {pct}
# percent, {eps} per-share dollars, {firm} broker, {pt} price target, {bnd} billions,
# {mn} millions, {k} headcount or units, {div} dividend, {when} a coming date, {conf}
# conference, {city}, {product}, {market}, {client}, {agency}, {year}, {margin}.
# Most headlines take two or more numbers, so a symbol rarely repeats one.
TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "positive": (
        ("{co} beats {q} estimates with EPS of ${eps}, revenue up {pct}%",
         "{co} reported {q} profit above analyst expectations on stronger demand"),
        ("{co} raises full-year EPS guidance to ${eps} after strong {q} results",
         "{co} lifted its annual earnings outlook, citing robust orders"),
        ("{firm} upgrades {co} to buy, lifts price target to ${pt}",
         "{firm} analysts see accelerating growth and expanding margins at {co}"),
        ("{co} unveils ${bnd} billion share buyback alongside {q} results",
         "{co}'s board authorised a ${bnd} billion repurchase, signalling confidence"),
        ("{co} raises quarterly dividend {pct}% to ${div} per share",
         "{co} increased its payout to shareholders on the back of strong cash flow"),
        ("{co} shares jump {pct}% after record {q} sales of ${bnd} billion",
         "Investors cheered {co}'s record quarterly sales and upbeat commentary"),
        ("{co} wins ${bnd} billion contract from {client}",
         "{co} secured a multi-year deal with {client} that boosts its order backlog"),
        ("{co} shares rise {pct}% as {product} launch in {market} draws strong demand",
         "{co} said initial orders for its new {product} in {market} exceeded its targets"),
        ("{firm} initiates {co} at outperform with ${pt} target",
         "{firm} started coverage of {co}, calling it a long-term winner in its market"),
        ("{co} {q} operating margin widens to {margin}% as cost cuts pay off",
         "{co} posted higher-than-expected {q} margins after efficiency gains"),
        ("{co} shares up {pct}% after regulators approve its {product} in {market}",
         "Regulators cleared {co}'s {product}, opening a large new revenue opportunity"),
    ),
    "neutral": (
        ("{co} to present at the {conf} on {when}",
         "{co} executives will discuss the company's strategy at the {conf}"),
        ("{co} declares quarterly dividend of ${div} per share, payable {when}",
         "{co} declared its regular quarterly dividend, unchanged from the prior quarter"),
        ("{co} to report {q} results on {when}",
         "{co} will publish its {q} financial results and host a conference call"),
        ("{firm} maintains neutral rating on {co}, ${pt} price target",
         "{firm} kept its neutral view on {co}, saying the shares are fairly valued"),
        ("{co} to hold investor day in {city} on {when}",
         "{co} will host analysts and investors in {city} to review its long-term plan"),
        ("{co} files {q} report with the SEC, sets earnings call for {when}",
         "{co} filed its routine quarterly report with the Securities and Exchange Commission"),
        ("{co} completes ${bnd} billion offering of notes due {year}",
         "{co} closed the debt offering it announced earlier, as planned"),
        ("{co} shares little changed ahead of {q} report due {when}",
         "{co} stock traded flat as investors awaited the company's upcoming results"),
        ("{co} names new chief financial officer effective {when}",
         "{co} appointed a new finance chief as part of a planned leadership transition"),
        ("{co} schedules annual shareholder meeting for {when}",
         "{co} set the date of its annual meeting, where shareholders will vote on directors"),
    ),
    "negative": (
        ("{co} misses {q} estimates with EPS of ${eps}, shares fall {pct}%",
         "{co} reported {q} results below expectations as demand weakened"),
        ("{co} cuts full-year outlook on weak demand, now sees EPS of ${eps}",
         "{co} lowered its annual guidance, warning of slowing sales and rising costs"),
        ("{firm} downgrades {co} to sell, cuts price target to ${pt}",
         "{firm} analysts expect margin pressure and slower growth at {co}"),
        ("{co} hit with class-action lawsuit in {city} over {product} claims, shares drop {pct}%",
         "Shareholders sued {co}, alleging it misled investors about its {product}"),
        ("{co} shares slide {pct}% as {q} EPS forecast of ${eps} disappoints",
         "{co} stock fell sharply after the company forecast weaker results"),
        ("{co} to cut {k} jobs, books ${mn} million restructuring charge",
         "{co} announced layoffs of {k} employees amid falling revenue"),
        ("{agency} probes {co} over ${mn} million revenue restatement; shares fall {pct}%",
         "Authorities opened an investigation into how {co} reported revenue"),
        ("{co} posts wider-than-expected {q} loss of ${mn} million",
         "{co}'s quarterly loss was larger than analysts forecast as costs climbed"),
        ("{co} recalls {k} units of its {product} over safety concerns",
         "{co} is recalling its {product} after reports of defects, hurting its outlook"),
    ),
}  # fmt: skip
FIRMS = ("Morgan Stanley", "Goldman Sachs", "JPMorgan", "Barclays", "UBS", "Citi",
         "Jefferies", "Wells Fargo", "Bernstein", "Evercore ISI", "Piper Sandler",
         "BofA Securities", "Deutsche Bank", "Raymond James")  # fmt: skip
CONFERENCES = ("Goldman Sachs Communacopia and Technology Conference", "JPMorgan Healthcare "
               "Conference", "Morgan Stanley TMT Conference", "Bernstein Strategic Decisions "
               "Conference", "Barclays Global Consumer Staples Conference", "UBS Global "
               "Industrials Conference", "Citi Global Technology Conference")  # fmt: skip
CITIES = ("New York", "Chicago", "San Francisco", "Boston", "Dallas", "Seattle", "Atlanta")
PRODUCTS = ("flagship product line", "subscription service", "cloud platform",
            "next-generation chip", "payments app", "electric vehicle", "medical device",
            "streaming bundle", "AI assistant", "loyalty program")  # fmt: skip
MARKETS = ("Europe", "Japan", "China", "India", "Brazil", "Canada")
CLIENTS = ("the U.S. Defense Department", "a major European carrier", "the U.K. government",
           "a Fortune 100 retailer", "a leading Asian bank", "NASA")  # fmt: skip
AGENCIES = ("SEC", "Justice Department", "FTC", "European Commission")
QUARTERS = ("fourth-quarter", "first-quarter", "second-quarter", "third-quarter")
SLOT_MINUTES = (6 * 60 + 30, 19 * 60 + 30)  # 06:30–19:30 New York time
PATH_RE = re.compile(r"^/(\d{4})/(\d{2})/(\d{2})/([a-z0-9.\-^=]+)/[a-z0-9\-]+-(\d+)$")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80].rstrip("-")


def _rng(symbol: str, day: dt.date) -> random.Random:
    seed = hashlib.sha256(f"stockmind-sample-news|{symbol}|{day.isoformat()}".encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def _plan(symbol: str, day: dt.date) -> list[tuple[dt.datetime, str, int, dict]]:
    """The day's stories for a symbol: (published_at UTC, label, template index, fields).
    Depends on (symbol, day) only — never on names or the window asked for."""
    rng = _rng(symbol, day)
    count = rng.choices((1, 2, 3), weights=(0.35, 0.40, 0.25))[0]
    minutes = sorted(rng.sample(range(*SLOT_MINUTES), count))
    plan = []
    for minute in minutes:
        label = rng.choices(LABELS, weights=WEIGHTS)[0]
        index = rng.randrange(len(TEMPLATES[label]))
        when = day + dt.timedelta(days=rng.randint(5, 40))
        fields = {
            "q": QUARTERS[(day.month - 1) // 3],  # the quarter last reported
            "pct": rng.randint(2, 24),
            "eps": f"{rng.randint(20, 999) / 100:.2f}",
            "firm": rng.choice(FIRMS),
            "pt": rng.randrange(20, 900, 5),
            "bnd": f"{rng.randint(10, 400) / 10:.1f}",
            "mn": rng.randrange(50, 900, 10),
            "k": f"{rng.randint(3, 60) * 100:,}",
            "div": f"{rng.randint(10, 250) / 100:.2f}",
            "when": f"{when:%B} {when.day}",
            "conf": rng.choice(CONFERENCES),
            "city": rng.choice(CITIES),
            "product": rng.choice(PRODUCTS),
            "market": rng.choice(MARKETS),
            "client": rng.choice(CLIENTS),
            "agency": rng.choice(AGENCIES),
            "year": day.year + rng.randint(3, 30),
            "margin": f"{rng.randint(100, 450) / 10:.1f}",
        }
        at = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), NY)
        plan.append((to_utc(at), label, index, fields))
    return plan


def _default_names() -> dict[str, str]:
    from stockmind.universe import load_sample_profiles

    return {s: p["name"] for s, p in load_sample_profiles().items() if p.get("name")}


class SampleNewsProvider:
    """Synthetic, reproducible finance headlines for any symbol (source ``sample``)."""

    name = "sample"

    def __init__(self, names: Mapping[str, str] | None = None):
        self._names = dict(names) if names is not None else _default_names()

    def company(self, symbol: str) -> str:
        name = self._names.get(symbol)
        return short_name(name) if name else symbol

    def stories(self, symbol: str, day: dt.date) -> list[Article]:
        """Every story of ``day`` for ``symbol`` (window-independent)."""
        symbol = symbol.strip().upper()
        articles = []
        for number, (at, label, index, fields) in enumerate(_plan(symbol, day), start=1):
            headline, summary = TEMPLATES[label][index]
            title = headline.format(co=self.company(symbol), **fields)
            text = summary.format(co=self.company(symbol), **fields)
            path = f"{day:%Y/%m/%d}/{symbol.lower()}/{_slug(title)}-{number}"
            articles.append(
                Article(
                    source=self.name,
                    title=title,
                    summary=f"{text}. {SUFFIX}",
                    publisher=PUBLISHER,
                    url=f"{BASE_URL}/{path}",
                    published_at=at,
                    symbols=(symbol,),
                )
            )
        return articles

    def fetch(self, symbols: Sequence[str], since: dt.datetime, until: dt.datetime) -> NewsFetch:
        since, until = to_utc(since), to_utc(until)
        days = trading_days(since.astimezone(NY).date(), until.astimezone(NY).date())
        result = NewsFetch()
        for symbol in dict.fromkeys(s.strip().upper() for s in symbols):
            for day in days:
                result.articles.extend(
                    a for a in self.stories(symbol, day) if since <= a.published_at <= until
                )
        return result

    @staticmethod
    def intended_label(article: Article) -> str:
        """The tone a sample story was written with, recovered from its URL (the date,
        symbol and number in the path replay the day's plan). ValueError otherwise."""
        parts = urlsplit(article.url or "")
        match = PATH_RE.match(parts.path)
        if f"{parts.scheme}://{parts.netloc}" != BASE_URL or not match:
            raise ValueError(f"not a sample news URL: {article.url!r}")
        year, month, day, symbol, number = match.groups()
        plan = _plan(symbol.upper(), dt.date(int(year), int(month), int(day)))
        if not 1 <= int(number) <= len(plan):
            raise ValueError(f"no such sample story: {article.url!r}")
        return plan[int(number) - 1][1]
