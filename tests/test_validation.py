"""Row validation: each rule quarantines exactly the rows it should, with its reason."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from stockmind.validation import validate_prices

AS_OF = dt.date(2024, 6, 28)


def bars(*rows):
    cols = ["symbol", "trade_date", "open", "high", "low", "close", "adj_close", "volume"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["trade_date"] = pd.to_datetime(frame["trade_date"], errors="coerce")
    return frame


GOOD = ("AAPL", "2024-06-03", 10.0, 11.0, 9.5, 10.5, 10.4, 1000)


def reasons(frame):
    checked = validate_prices(frame, as_of=AS_OF)
    return checked, dict(
        zip(checked.rejected["trade_date"].astype(str), checked.rejected["reason"], strict=False)
    )


def test_good_rows_pass_unchanged():
    checked = validate_prices(bars(GOOD, ("MSFT", "2024-06-03", 5, 5, 5, 5, 5, 0)), as_of=AS_OF)
    assert checked.counts == {"good": 2, "rejected": 0}
    assert checked.good["volume"].dtype == np.int64


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (("AAPL", "2024-06-04", np.nan, 11, 9, 10, 10, 5), "missing_open"),
        (
            ("AAPL", "2024-06-04", np.nan, np.nan, np.nan, 10, 10, 5),
            "missing_open;missing_high;missing_low",
        ),
        (("AAPL", "2024-06-04", 10, 9.9, 9, 10, 10, 5), "high_below_open_close"),
        (("AAPL", "2024-06-04", 10, 11, 10.2, 10.5, 10.5, 5), "low_above_open_close"),
        (
            ("AAPL", "2024-06-04", 10, 9, 9.5, 9.2, 9.2, 5),
            "high_below_open_close;low_above_open_close;high_below_low",
        ),
        (("AAPL", "2024-06-04", 10, 11, 9, 10, 10, -1), "negative_volume"),
        (("AAPL", "2024-06-04", 10, 11, 9, 10, 10, 1.5), "fractional_volume"),
        (("AAPL", "2024-06-04", 0, 11, 0, 10, 10, 5), "non_positive_price"),
        (("AAPL", "2024-07-01", 10, 11, 9, 10, 10, 5), "future_date"),
        (("", "2024-06-04", 10, 11, 9, 10, 10, 5), "invalid_symbol"),
    ],
)
def test_each_rule_has_its_reason(row, expected):
    checked, found = reasons(bars(GOOD, row))
    assert checked.counts == {"good": 1, "rejected": 1}
    assert list(found.values()) == [expected]


def test_unparseable_date_is_quarantined_not_dropped():
    frame = bars(GOOD, ("AAPL", "not a date", 10, 11, 9, 10, 10, 5))
    checked = validate_prices(frame, as_of=AS_OF)
    assert checked.counts == {"good": 1, "rejected": 1}
    assert checked.rejected["reason"].tolist() == ["invalid_date"]


def test_identical_duplicates_keep_the_first_copy():
    checked, _found = reasons(bars(GOOD, GOOD, GOOD))
    assert checked.counts == {"good": 1, "rejected": 2}
    assert set(checked.rejected["reason"]) == {"duplicate_key"}


def test_conflicting_duplicates_are_all_quarantined():
    other = (*GOOD[:5], 10.6, 10.5, 1000)
    checked = validate_prices(bars(GOOD, other, ("MSFT", *GOOD[1:])), as_of=AS_OF)
    assert checked.counts == {"good": 1, "rejected": 2}
    assert set(checked.rejected["reason"]) == {"duplicate_key_conflict"}
    assert checked.good["symbol"].tolist() == ["MSFT"]


def test_every_input_row_is_accounted_for():
    rng = np.random.default_rng(7)
    n = 500
    frame = bars(*[GOOD] * 0)
    frame = pd.DataFrame(
        {
            "symbol": rng.choice(["AAPL", "MSFT", ""], n),
            "trade_date": pd.to_datetime("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 200, n), "D"),
            "open": rng.normal(10, 1, n),
            "high": rng.normal(11, 1, n),
            "low": rng.normal(9, 1, n),
            "close": rng.normal(10, 1, n),
            "adj_close": rng.normal(10, 1, n),
            "volume": rng.integers(-5, 1000, n).astype(float),
        }
    )
    checked = validate_prices(frame, as_of=AS_OF)
    assert len(checked.good) + len(checked.rejected) == n
    assert checked.rejected["reason"].str.len().min() > 0
