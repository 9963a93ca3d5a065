"""The CSV provider: the real five-year S&P 500 file as is, and small files of other shapes."""

import datetime as dt

import pytest
from stockmind.ingest import ingest_prices
from stockmind.providers.csv import CsvProvider
from stockmind.validation import validate_prices

REAL_ROWS = 619_040
BAD_ROWS = 23  # 11 without open (8 also without high/low) + 12 whose high/low do not bracket


@pytest.mark.shared_data
def test_real_file_quarantines_exactly_the_bad_rows(shared_data):
    provider = CsvProvider(shared_data / "prices" / "all_stocks_5yr.csv.gz")
    frame = provider.fetch_daily(None, None, None).frame
    assert len(frame) == REAL_ROWS
    checked = validate_prices(frame)
    assert checked.counts == {"good": REAL_ROWS - BAD_ROWS, "rejected": BAD_ROWS}
    reasons = checked.rejected["reason"]
    assert reasons.str.contains("missing_open").sum() == 11
    assert (reasons == "missing_open;missing_high;missing_low").sum() == 8
    assert reasons.str.contains("high_below_open_close").sum() == 1
    assert reasons.str.contains("low_above_open_close").sum() == 11
    assert sorted(
        checked.rejected.loc[reasons.str.contains("missing_open"), "symbol"].unique()
    ) == [
        "BHF",
        "DHR",
        "ES",
        "FTV",
        "O",
        "REGN",
        "UA",
        "VRTX",
        "WRK",
    ]


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_file_loads_every_good_row(shared_data, db, warehouse):
    provider = CsvProvider(shared_data / "prices" / "all_stocks_5yr.csv.gz")
    summary = ingest_prices(
        provider.symbols(),
        dt.date(2013, 1, 1),
        dt.date(2018, 12, 31),
        provider,
        batch_size=128,
        dsn=warehouse,
        progress=lambda m: None,
    )
    assert summary["written"] == REAL_ROWS - BAD_ROWS
    assert summary["rejected_new"] == BAD_ROWS
    with db.cursor() as cur:
        cur.execute("select count(*), count(distinct symbol) from raw.prices_daily")
        assert cur.fetchone() == (REAL_ROWS - BAD_ROWS, 505)
        cur.execute("select count(*) from raw.prices_daily where symbol = 'APTV'")
        assert cur.fetchone()[0] == 44  # short histories load whole
        cur.execute("select count(*) from raw.rejected_rows where source = 'csv'")
        assert cur.fetchone()[0] == BAD_ROWS


def test_folder_of_files_with_symbol_from_name_and_mapping(tmp_path):
    (tmp_path / "AAPL_data.csv").write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-01-02,10,11,9,10.5,10.4,100\n2024-01-03,10.5,11,10,10.8,10.7,200\n"
    )
    (tmp_path / "msft.csv").write_text(
        "day,o,h,l,c,v\n2024-01-02,20,21,19,20.5,300\nbad-date,20,21,19,20.5,300\n"
    )
    mapping = {
        "trade_date": "day",
        "open": "o",
        "high": "h",
        "low": "l",
        "close": "c",
        "volume": "v",
    }
    with pytest.raises(ValueError, match="lacks columns"):
        CsvProvider(tmp_path).frame()
    aapl = CsvProvider(tmp_path / "AAPL_data.csv").fetch_daily(
        ["AAPL"], dt.date(2024, 1, 3), dt.date(2024, 1, 3)
    )
    assert aapl.frame[["symbol", "close", "adj_close"]].values.tolist() == [["AAPL", 10.8, 10.7]]
    msft = CsvProvider(tmp_path / "msft.csv", mapping).fetch_daily(
        ["MSFT", "NOPE"], dt.date(2024, 1, 1), dt.date(2024, 1, 2)
    )
    assert len(msft.frame) == 2  # the undated row travels on to be quarantined
    assert list(msft.errors) == ["NOPE"]
    checked = validate_prices(msft.frame)
    assert checked.rejected["reason"].tolist() == ["invalid_date"]
    assert checked.good["adj_close"].tolist() == [20.5]  # no adjusted close: the close
