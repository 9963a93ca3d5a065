"""Housekeeping on a real warehouse: old quarantined rows counted by reason, then deleted
(recent ones kept); tables changed since their last analysis get ANALYZE."""

import datetime as dt
import json

from stockmind.loader import quarantine, quarantine_record
from stockmind.maintenance import analyze_changed, prune_quarantine


def test_old_quarantine_is_counted_then_deleted_and_changed_tables_analyzed(warehouse, db):
    today = dt.date(2026, 6, 30)
    with db.cursor() as cur:
        records = [quarantine_record("sample", {"symbol": f"S{i}", "n": i}, reason, None)
                   for i, reason in enumerate(["missing_close", "missing_close", "future_date"])]  # fmt: skip
        quarantine(cur, records)
        cur.execute(  # two rows 100 days old, one yesterday
            "update raw.rejected_rows set rejected_at = %s where payload->>'n' in ('0', '2')",
            (dt.datetime(2026, 3, 22, tzinfo=dt.UTC),),
        )
        cur.execute("update raw.rejected_rows set rejected_at = %s where payload->>'n' = '1'",
                    (dt.datetime(2026, 6, 29, tzinfo=dt.UTC),))  # fmt: skip
    pruned = prune_quarantine(warehouse, today=today, keep_days=90)
    assert pruned["deleted"] == 2 and pruned["before"] == "2026-04-01"
    assert pruned["by_reason"] == {"sample: future_date": 1, "sample: missing_close": 1}
    with db.cursor() as cur:
        cur.execute("select payload->>'n' from raw.rejected_rows")
        assert cur.fetchall() == [("1",)]
    assert prune_quarantine(warehouse, today=today, keep_days=90)["deleted"] == 0
    json.dumps(pruned)  # small and JSON-able: it travels through XCom
    analyzed = analyze_changed(warehouse)
    assert "raw.rejected_rows" in analyzed
    assert "raw.rejected_rows" not in analyze_changed(warehouse)  # nothing changed since
