"""The long-lived Refresher (a stream worker's refresh loop) gives the marts the reference expects,
reusing one parsed manifest, and skipping only the models that have nothing new to add; reads
between refreshes count every committed event, for stored pairs and for pairs new since."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory.refresh import SOURCE_ONLY_MODELS, Refresher, run_dbt
from tests.transform.test_marts_match_reference import (  # noqa: F401 (a fixture)
    LAST_AS_OF,
    assert_marts_match,
    reference_data,
)


def wms(n: int, sku: str, location: str, event_type: str, qty: int, at, **extra) -> dict:
    return {
        "event_id": f"R{n}",
        "event_type": event_type,
        "sku_id": sku,
        "location_id": location,
        "qty_delta": qty,
        "event_ts": at.isoformat(),
        **extra,
    }


@pytest.mark.usefixtures("reference_data")
def test_refresher_matches_the_reference_across_refreshes(conn, settings):
    first, second = LAST_AS_OF - timedelta(hours=26), LAST_AS_OF
    day = timedelta(days=1)
    ingest_records(
        conn,
        "wms",
        [
            wms(1, "S1", "L1", "receipt", 40, first - 3 * day, unit_cost="2"),
            wms(2, "S1", "L1", "issue", -25, first - 2 * day),
            wms(3, "S2", "L1", "receipt", 30, first - 5 * day, unit_cost="1.25"),
            wms(4, "S3", "L2", "receipt", 12, first - day, unit_cost="7"),
            wms(5, "S1", "L2", "receipt", 1200, first - day, unit_cost="1"),
        ]
        + [
            wms(10 + i, "S1", "L2", "issue", -3, first - day + i * timedelta(hours=1))
            for i in range(6)
        ],
        "chunk 0",
    )
    ingest_records(
        conn,
        "orders",
        [
            {
                "order_id": "SO1",
                "line_id": "1",
                "sku_id": "S1",
                "location_id": "L1",
                "quantity": 8,
                "status": "completed",
                "order_ts": (first - 2 * day).isoformat(),
            },
            {
                "order_id": "SO2",
                "line_id": "1",
                "sku_id": "S2",
                "location_id": "L1",
                "quantity": 5,
                "status": "completed",
                "order_ts": (first - day).isoformat(),
            },
        ],
        "orders 0",
    )
    refresher = Refresher(settings)
    every_model = refresher.refresh(as_of=first, full_refresh=True).models
    manifest = refresher._manifest
    assert_marts_match(conn, first)

    # warehouse events only: the order-line and MES models have nothing to add and are skipped
    ingest_records(
        conn,
        "wms",
        [
            wms(30, "S1", "L1", "issue", -10, second - 3 * timedelta(hours=1)),
            wms(31, "S2", "L1", "issue", -28, first - 4 * day),  # late
            wms(32, "S2", "L2", "receipt", 5, second - day, unit_cost="7"),
        ],
        "chunk 1",
    )
    result = refresher.refresh(as_of=second)
    assert refresher._manifest is manifest
    assert_marts_match(conn, second)
    # not every model ran: the order-line and MES models were skipped
    assert result.models <= every_model - len(SOURCE_ONLY_MODELS)

    # demand again: the skipped model runs once its source has new rows
    ingest_records(
        conn,
        "orders",
        [
            {
                "order_id": "SO3",
                "line_id": "1",
                "sku_id": "S1",
                "location_id": "L1",
                "quantity": 40,
                "status": "completed",
                "order_ts": (second - day).isoformat(),
            }
        ],
        "orders 1",
    )
    refresher.refresh(as_of=second)
    assert_marts_match(conn, second)

    # between refreshes: stored pairs move, and a pair appears that has no stored health yet
    ingest_records(
        conn,
        "wms",
        [
            wms(40, "S1", "L1", "issue", -3, second - timedelta(minutes=5)),
            wms(41, "S2", "L1", "receipt", 50, second - timedelta(minutes=4), unit_cost="1"),
            wms(42, "S3", "L1", "receipt", 2, second - timedelta(minutes=3), unit_cost="7"),
            wms(43, "S9", "L1", "reserve", 4, second - timedelta(minutes=2)),
        ],
        "after the refresh",
    )
    assert_marts_match(conn, second, ["inventory_position", "inventory_health", "reorder_alerts"])

    # mid-refresh: the totals have counted the events (the first model of a refresh to commit),
    # the stored health has not yet; reads must follow the totals, not the older stored rows
    refresher.refresh(as_of=second)
    ingest_records(
        conn,
        "wms",
        [
            wms(50, "S1", "L1", "issue", -4, second - timedelta(minutes=1)),
            wms(51, "S2", "L2", "reserve", 5, second - timedelta(minutes=1)),
        ],
        "during a refresh",
    )
    run_dbt(
        settings,
        [
            "run",
            "--select",
            "int_position_totals",
            "--vars",
            f'{{"as_of": "{second.isoformat()}"}}',
        ],
    )
    assert_marts_match(conn, second, ["inventory_position", "inventory_health", "reorder_alerts"])


def test_a_state_table_whose_columns_changed_stops_the_refresh(conn, settings):
    """The project's incremental materialization compares the new rows' columns with the state
    table's in one query (instead of dbt's four lookups); a difference must still stop the run
    rather than write rows into the wrong shape."""
    from dagster_project.core.inventory.refresh import DbtError

    ingest_records(conn, "wms", [wms(1, "S1", "L1", "receipt", 5, LAST_AS_OF, unit_cost="1")], "a")
    refresher = Refresher(settings)
    refresher.refresh(as_of=LAST_AS_OF)
    conn.execute("alter table intermediate.int_position_totals add column stray_note text")
    ingest_records(conn, "wms", [wms(2, "S1", "L1", "issue", -2, LAST_AS_OF)], "b")

    with pytest.raises(DbtError, match="int_position_totals.*full refresh"):
        refresher.refresh(as_of=LAST_AS_OF)

    refresher.refresh(as_of=LAST_AS_OF, full_refresh=True)
    on_hand = conn.execute(
        "select on_hand_qty from marts.inventory_position"
        " where sku_id = 'S1' and location_id = 'L1'"
    ).fetchone()[0]
    assert on_hand == 3
