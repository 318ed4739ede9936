"""int_sku_size_counts takes "the movements it has counted" from max(through_seq) over its rows.
It used to write only the sizes whose count changed, so a refresh that counted a new movement
and whose changes all cancelled out wrote nothing, and the next refresh counted that movement
again (found while documenting the state layer). A size that counts a new movement is written
now, whatever its net change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory.refresh import refresh

T0 = datetime(2026, 11, 10, 12, tzinfo=UTC)


def movement(n: int, qty: int, at: datetime) -> dict:
    record = {"event_id": f"SZ{n}", "sku_id": "S1", "location_id": "L1", "qty_delta": qty}
    if qty > 0:
        return record | {"event_type": "receipt", "unit_cost": "1", "event_ts": at.isoformat()}
    return record | {"event_type": "issue", "event_ts": at.isoformat()}


def size_counts(conn) -> list[tuple]:
    return conn.execute(
        "select sku_id, abs_qty, movements from intermediate.int_sku_size_counts order by 1, 2"
    ).fetchall()


@pytest.mark.slow
def test_a_movement_is_counted_once_when_a_refresh_changes_nothing(conn, settings):
    # F, a receipt of 100 an hour after the 28-day window's lower edge as of T0: S1 size 100 -> 1
    ingest_records(conn, "wms", [movement(1, 100, T0 - timedelta(days=28, hours=-1))], "F")
    refresh(settings, as_of=T0, full_refresh=True)
    # E, an issue of 100 at T0 + 1 h. As of T0 + 2 h, E has entered the window (+1) and F has
    # left it (-1): size 100 stays at 1, and the refresh writes no row.
    ingest_records(conn, "wms", [movement(2, -100, T0 + timedelta(hours=1))], "E")
    refresh(settings, as_of=T0 + timedelta(hours=2))
    # As of T0 + 3 h nothing is new and nothing crosses an edge: still E alone, 1.
    refresh(settings, as_of=T0 + timedelta(hours=3))

    assert size_counts(conn) == [("S1", 100, 1)]
