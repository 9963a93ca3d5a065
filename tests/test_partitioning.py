"""Storage policy: native partitions here, TimescaleDB statements for servers that have it."""

import datetime as dt

from stockmind import partitioning

DAILY = partitioning.policy_for("raw.prices_daily")
MINUTE = partitioning.policy_for("raw.quotes_minute")


def test_timescale_statements_for_daily_bars():
    stmts = partitioning.timescale_statements(DAILY)
    joined = "\n".join(stmts)
    assert (
        "create_hypertable('raw.prices_daily', by_range('trade_date', interval '1 year')" in joined
    )
    assert "timescaledb.compress_segmentby = 'symbol'" in joined
    assert "timescaledb.compress_orderby = 'trade_date desc'" in joined
    assert "add_compression_policy('raw.prices_daily'" in joined
    assert "add_retention_policy" not in joined  # daily history is kept


def test_timescale_statements_for_minute_quotes():
    joined = "\n".join(partitioning.timescale_statements(MINUTE))
    assert "by_range('ts', interval '1 day')" in joined
    assert "add_retention_policy('raw.quotes_minute', interval '3 months'" in joined
    assert "add_compression_policy('raw.quotes_minute', interval '7 days'" in joined


def test_partition_statements_cover_the_range():
    stmts = partitioning.partition_statements(DAILY, dt.date(2016, 12, 30), dt.date(2018, 1, 2))
    assert [s.split()[5] for s in stmts] == [
        "raw.prices_daily_y2016",
        "raw.prices_daily_y2017",
        "raw.prices_daily_y2018",
    ]
    assert "for values from ('2017-01-01') to ('2018-01-01')" in stmts[1]
    monthly = partitioning.partition_statements(MINUTE, dt.date(2025, 11, 15), dt.date(2026, 1, 1))
    assert [s.split()[5][-7:] for s in monthly] == ["m202511", "m202512", "m202601"]


def test_retention_drops_only_whole_expired_partitions():
    parts = {
        "quotes_minute_m202507": dt.date(2025, 8, 1),
        "quotes_minute_m202508": dt.date(2025, 9, 1),
        "quotes_minute_m202509": dt.date(2025, 10, 1),
    }
    assert partitioning.expired_partitions(MINUTE, parts, dt.date(2025, 11, 20)) == [
        "quotes_minute_m202507"
    ]
    assert (
        partitioning.expired_partitions(
            DAILY, {"prices_daily_y2000": dt.date(2001, 1, 1)}, dt.date(2026, 1, 1)
        )
        == []
    )
