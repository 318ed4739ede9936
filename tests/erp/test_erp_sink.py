"""The Postgres sink end to end: real events, real dbt marts, the real ERP database."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import psycopg
import pytest

from dagster_project.core.erp import sync_once
from dagster_project.core.inventory.refresh import refresh

from .inventory import AS_OF, ingest_wms, load_params, wms

REQUESTS = """
    select sku_id, location_id, status, available_qty, reorder_point, safety_stock,
        demand_rate_per_day, qty_below_rop, suggested_order_qty, inventory_status, as_of,
        opened_seq, closed_seq, closed_at is not null
    from erp.replenishment_requests order by request_id
"""


def progress(erp: psycopg.Connection) -> tuple:
    return erp.execute("select ingest_seq, as_of from erp.sink_progress").fetchone()


def counts(result) -> tuple:
    return (result.opened, result.closed, result.health_upserted, result.ingest_seq)


def test_one_request_per_episode(conn, erp, settings, tmp_path):
    load_params(conn, tmp_path)
    # seq 1: S1 has 4, below its reorder point 10; seq 2: S2 has 100, healthy
    ingest_wms(conn, wms("E1", "receipt", 4), wms("E2", "receipt", 100, sku="S2"))
    refresh(settings, as_of=AS_OF)

    assert counts(sync_once(settings)) == (1, 0, 2, 2)
    # qty_below_rop = 4 - 10; suggested: target 10 + 0 * 7, raw 10 - 4 = 6, in fives -> 10
    s1_open = ("S1", "L1", "open", 4, 10, 0, 0, -6, 10, "reorder_now", AS_OF, 2, None, False)
    assert erp.execute(REQUESTS).fetchall() == [s1_open]
    assert progress(erp) == (2, AS_OF)
    health = erp.execute(
        "select sku_id, available_qty, reorder_point, inventory_status, as_of"
        " from erp.inventory_health_live order by sku_id"
    ).fetchall()
    assert health == [("S1", 4, 10, "reorder_now", AS_OF), ("S2", 100, 10, "healthy", AS_OF)]

    # nothing moved: nothing written but the progress
    assert counts(sync_once(settings)) == (0, 0, 0, 2)

    # seq 3: 20 received -> 24, above 10: the episode ends (read without a refresh: the marts
    # add the events since the last refresh when read)
    ingest_wms(conn, wms("E3", "receipt", 20, days_ago=1))
    assert counts(sync_once(settings)) == (0, 1, 1, 3)
    s1_closed = (*s1_open[:2], "closed", *s1_open[3:12], 3, True)
    assert erp.execute(REQUESTS).fetchall() == [s1_closed]

    # seq 4: 16 issued -> 8, below again: a second episode, 8 - 10 = -2, raw 2 -> 5
    ingest_wms(conn, wms("E4", "issue", -16, days_ago=1))
    assert counts(sync_once(settings)) == (1, 0, 1, 4)
    s1_again = ("S1", "L1", "open", 8, 10, 0, 0, -2, 5, "reorder_now", AS_OF, 4, None, False)
    assert erp.execute(REQUESTS).fetchall() == [s1_closed, s1_again]
    assert erp.execute(
        "select available_qty from erp.inventory_health_live where sku_id = 'S1'"
    ).fetchone() == (D(8),)
    assert progress(erp) == (4, AS_OF)

    # a later refresh moves only as_of: no health row is rewritten; the progress says how current
    later = AS_OF + timedelta(hours=1)
    refresh(settings, as_of=later)
    assert counts(sync_once(settings)) == (0, 0, 0, 4)
    assert progress(erp) == (4, later)


STOCKOUTS = (
    "select sku_id, stockouts_30d, in_stock_pct_30d from erp.inventory_health_live order by sku_id"
)


def test_live_health_carries_each_pairs_stockouts(conn, erp, settings, tmp_path):
    load_params(conn, tmp_path)
    # as_of 11-09 00:00. S1: 4 received 11-07 00:00, 4 issued 11-08 00:00: out since, open at
    # as_of: one episode, 24 h of the 720: 100 * (1 - 24 / 720) = 96.666.. -> 96.67.
    # S2: 100 received, never out: 0 episodes, 100.00.
    ingest_wms(
        conn,
        wms("E1", "receipt", 4),
        wms("E2", "issue", -4, days_ago=1),
        wms("E3", "receipt", 100, sku="S2"),
    )
    refresh(settings, as_of=AS_OF)
    assert counts(sync_once(settings)) == (1, 0, 2, 3)  # S1 at 0 is below its reorder point
    assert erp.execute(STOCKOUTS).fetchall() == [("S1", 1, D("96.67")), ("S2", 0, D("100.00"))]

    # a late receipt dated 11-08 12:00 ends the episode after 12 h: 100 * (1 - 12 / 720) =
    # 98.333.. -> 98.33, at the next refresh; S2's row is not rewritten
    late = wms("E4", "receipt", 2) | {"event_ts": (AS_OF - timedelta(hours=12)).isoformat()}
    ingest_wms(conn, late)
    refresh(settings, as_of=AS_OF)
    assert counts(sync_once(settings)) == (0, 0, 1, 4)
    assert erp.execute(STOCKOUTS).fetchall() == [("S1", 1, D("98.33")), ("S2", 0, D("100.00"))]


def test_the_database_refuses_a_second_open_request_for_a_pair(erp):
    insert = """
        insert into erp.replenishment_requests (sku_id, location_id, status, closed_at,
            available_qty, reorder_point, qty_below_rop, suggested_order_qty, inventory_status)
        values ('S1', 'L1', %s, %s, 4, 10, -6, 10, 'reorder_now')
    """
    erp.execute(insert, ["closed", AS_OF])
    erp.execute(insert, ["open", None])
    erp.execute(insert, ["closed", AS_OF])  # closed ones are history: any number

    with pytest.raises(psycopg.errors.UniqueViolation, match="one_open_per_pair"):
        erp.execute(insert, ["open", None])
    assert erp.execute(
        "select status, count(*) from erp.replenishment_requests group by 1 order by 1"
    ).fetchall() == [("closed", 2), ("open", 1)]
