"""A landing schema and decision log emptied for each test, the reconciliation views in place,
and small builders for counts, events and SKUs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from dagster_project.core.db import connect
from dagster_project.core.db.roles import SUPERUSER
from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory.refresh import CLOCK_DDL
from dagster_project.core.reconciliation import ensure_views
from dagster_project.core.settings import Settings
from tests.conftest import LANDING_TABLES

T = datetime(2026, 11, 10, 12, tzinfo=UTC)  # the instant most counts are taken at


@pytest.fixture
def recon(database: str, settings: Settings) -> Iterator[psycopg.Connection]:
    """Empty landing tables and decision log (the log refuses deletes: triggers are bypassed
    for the reset only), the views built once and kept."""
    with connect(settings, SUPERUSER) as conn:
        conn.execute(f"truncate {', '.join(LANDING_TABLES)} restart identity")
        conn.execute("alter sequence raw.ingest_seq restart")
        with conn.transaction():
            conn.execute("set local session_replication_role = replica")
            conn.execute(
                "truncate reconciliation.decisions, reconciliation.erp_deliveries restart identity"
            )
        ensure_views(settings, conn)
        set_clock(conn, T)
        yield conn


def set_clock(conn: psycopg.Connection, as_of: datetime) -> None:
    """The instant the rolling IRA window ends at, as a refresh --as-of would leave it."""
    conn.execute(CLOCK_DDL)
    conn.execute(
        """
        insert into intermediate.refresh_clock (as_of) values (%s)
        on conflict (is_singleton) do update set as_of = excluded.as_of
        """,
        [as_of],
    )


def skus(conn: psycopg.Connection, **classes: str | None) -> None:
    rows = [{"sku_id": s, "base_uom": "EA", "abc_class": c} for s, c in classes.items()]
    assert ingest_records(conn, "skus", rows, "test skus").accepted == len(rows)


def events(conn: psycopg.Connection, *rows: tuple) -> None:
    """(event_id, event_type, sku, location, qty, event_ts[, reference_id]) each."""
    records = []
    for event_id, event_type, sku, location, qty, ts, *ref in rows:
        record = {
            "event_id": event_id,
            "event_type": event_type,
            "sku_id": sku,
            "location_id": location,
            "qty_delta": qty,
            "event_ts": ts.isoformat(),
        }
        if event_type == "receipt":
            record["unit_cost"] = 1
        if ref:
            record["reference_id"] = ref[0]
        records.append(record)
    assert ingest_records(conn, "wms", records, "test events").accepted == len(records)


def counts(conn: psycopg.Connection, *rows: tuple) -> None:
    """(count_id, sku, location, counted_qty, counted_at) each."""
    records = [
        {
            "count_id": count_id,
            "sku_id": sku,
            "location_id": location,
            "counted_qty": qty,
            "counted_at": at.isoformat(),
            "counted_by": "ana",
        }
        for count_id, sku, location, qty, at in rows
    ]
    assert ingest_records(conn, "counts", records, "test counts").accepted == len(records)


def variance(conn: psycopg.Connection, count_id: str) -> dict:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(
        "select * from marts.count_variances where count_id = %s", [count_id]
    ).fetchone()


def decisions(conn: psycopg.Connection, count_id: str | None = None) -> list[tuple]:
    """(count_id, decision, decided_by, adjustment_qty) in the order they were taken."""
    return conn.execute(
        """
        select count_id, decision, decided_by, adjustment_qty from reconciliation.decisions
        where %(id)s::text is null or count_id = %(id)s order by decision_id
        """,
        {"id": count_id},
    ).fetchall()


def adjustments(conn: psycopg.Connection) -> list[tuple]:
    """(event_id, sku, location, qty_delta, event_ts, reference_id) of the adjust events."""
    return conn.execute(
        """
        select event_id, sku_id, location_id, qty_delta, event_ts, reference_id
        from raw.wms_events where event_type = 'adjust' order by ingest_seq
        """
    ).fetchall()
