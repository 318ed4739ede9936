"""subscribe_loop's wiring, with a stand-in for Materialize (none runs here) and the real ERP.

The stand-in only replays rows in the shape `SUBSCRIBE ... WITH (PROGRESS)` sends them; the fold
and the ERP transaction it feeds are the real ones.
"""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal as D

from dagster_project.core.erp import subscribe_loop


def row(ts: int, diff: int | None, available: int | None = None) -> tuple:
    if diff is None:
        return (D(ts), True, None, *([None] * 10))
    figures = (D(available), D(10), D(0), D(0), D(available - 10), D(6), "reorder_now", None)
    return (D(ts), False, diff, "S1", "L1", *figures)


class ReplayedSubscribe:
    """Enough of a psycopg connection for subscribe_loop: cursor().stream(query) yields rows."""

    def __init__(self, rows: list[tuple]):
        self.rows = rows
        self.queries: list = []

    @contextmanager
    def cursor(self):
        yield self

    def stream(self, query):
        self.queries.append(query)
        yield from self.rows


def test_each_completed_timestamp_is_applied_to_the_erp(erp):
    mz = ReplayedSubscribe(
        [
            row(100, None),
            row(100, +1, available=4),  # the snapshot: S1 alerting
            row(101, None),
            row(101, -1, available=4),  # an update within one timestamp
            row(101, +1, available=3),
            row(102, None),
            row(102, -1, available=3),  # S1 leaves
            row(103, None),
        ]
    )
    results = []

    subscribe_loop(mz, erp, on_result=results.append)

    assert mz.queries[0].as_string(erp) == (
        'subscribe (select "sku_id", "location_id", "available_qty", "reorder_point",'
        ' "safety_stock", "demand_rate_per_day", "qty_below_rop", "suggested_order_qty",'
        ' "inventory_status", "as_of" from "marts"."reorder_alerts") with (progress)'
    )
    assert [(r.opened, r.closed, r.mz_timestamp) for r in results] == [
        (1, 0, 101),
        (0, 0, 102),
        (0, 1, 103),
    ]
    assert erp.execute(
        "select status, available_qty from erp.replenishment_requests"
    ).fetchall() == [("closed", 4)]
    assert erp.execute("select mz_timestamp from erp.sink_progress").fetchone() == (103,)
