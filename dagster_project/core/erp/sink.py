"""The ERP sink: turn the marts into replenishment requests and live health rows, exactly once.

Each pass reads one consistent moment of the inventory (a repeatable-read snapshot on Postgres,
a progressed timestamp of a SUBSCRIBE on Materialize) and applies it in one ERP transaction that
first reads the ERP's own open requests. A pass that dies before its commit leaves nothing; one
that dies after it leaves a state the next pass finds nothing to do against. Hence no request is
lost or doubled, whatever the retries, and the partial unique index refuses a second open one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from dagster_project.core.db import connect
from dagster_project.core.db.locks import ERP_SINK_LOCK
from dagster_project.core.erp.database import connect_erp
from dagster_project.core.erp.episodes import (
    ALERT_COLUMNS,
    Alert,
    OpenRequest,
    Pair,
    fold_subscribe,
    index_alerts,
    plan,
)
from dagster_project.core.erp.health import HEALTH_KEYED, upsert_health
from dagster_project.core.erp.schema import STOCKOUT_COLUMNS
from dagster_project.core.settings import Settings, get_settings

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class InventorySnapshot:
    """One consistent moment of the inventory marts, as the sink needs it."""

    ingest_seq: int | None
    alerts: dict[Pair, Alert]
    health: list[tuple]  # rows in HEALTH_KEYED order
    as_of: datetime | None


@dataclass(frozen=True)
class SyncResult:
    opened: int
    closed: int
    health_upserted: int
    ingest_seq: int | None = None
    mz_timestamp: Decimal | None = None
    # the ERP already holds a later moment (another sink got there first): nothing was written
    skipped: bool = False


def sync_once(
    settings: Settings | None = None,
    *,
    inventory: psycopg.Connection | None = None,
    erp: psycopg.Connection | None = None,
) -> SyncResult:
    """One pass of the Postgres sink. A long-lived caller passes autocommit connections; else they
    are opened from `settings` and closed again."""
    if (inventory is None or erp is None) and settings is None:
        raise ValueError("sync_once needs settings or both connections")
    with ExitStack() as stack:
        if inventory is None:
            inventory = stack.enter_context(connect(settings))
        if erp is None:
            erp = stack.enter_context(connect_erp(settings))
        snapshot = read_inventory(inventory)
        return apply_snapshot(
            erp,
            snapshot.alerts,
            health=snapshot.health,
            ingest_seq=snapshot.ingest_seq,
            as_of=snapshot.as_of,
        )


# the health rows in HEALTH_KEYED order, each with its pair's stockouts (every position has a row
# in both marts)
HEALTH_ROWS = sql.SQL(
    "select {} from marts.inventory_health as h"
    " left join marts.stockout_frequency_30d as f using (sku_id, location_id)"
).format(
    sql.SQL(", ").join(
        sql.Identifier("f" if name in STOCKOUT_COLUMNS else "h", name) for name in HEALTH_KEYED
    )
)


def read_inventory(conn: psycopg.Connection) -> InventorySnapshot:
    """The sequence reached, the alerts and the health rows, all from one snapshot."""
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        # every event source draws from raw.ingest_seq, and demand and purchase orders move
        # alerts as much as stock
        (seq,) = conn.execute(
            """
            select greatest(
                (select max(ingest_seq) from raw.wms_events),
                (select max(ingest_seq) from raw.mes_events),
                (select max(ingest_seq) from raw.order_lines),
                (select max(ingest_seq) from raw.purchase_orders)
            )
            """
        ).fetchone()
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                sql.SQL("select {} from marts.reorder_alerts").format(_columns(ALERT_COLUMNS))
            ).fetchall()
        health = conn.execute(HEALTH_ROWS).fetchall()
    at = HEALTH_KEYED.index("as_of")
    as_of = max((row[at] for row in health if row[at] is not None), default=None)
    return InventorySnapshot(seq, index_alerts(map(Alert.from_row, rows)), health, as_of)


def apply_snapshot(
    erp: psycopg.Connection,
    alerts: Mapping[Pair, Alert],
    *,
    health: Sequence[tuple] | None = None,
    ingest_seq: int | None = None,
    mz_timestamp: Decimal | None = None,
    as_of: datetime | None = None,
) -> SyncResult:
    """Bring the ERP to this moment in one transaction; retried when a writer outside the sink's
    lock got a request in first (the unique index refused ours, so nothing was doubled)."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with erp.transaction():
                result = _apply(erp, alerts, health, ingest_seq, mz_timestamp, as_of)
                _crash_point("before_erp_commit")
        except psycopg.errors.UniqueViolation:
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        _crash_point("after_erp_commit")
        return result
    raise AssertionError("unreachable")


def subscribe_loop(
    mz_conn: psycopg.Connection,
    erp: psycopg.Connection,
    *,
    relation: str = "marts.reorder_alerts",
    on_result: Callable[[SyncResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Follow reorder_alerts on Materialize and apply each completed timestamp to the ERP.

    A restart subscribes afresh: its first snapshot is reconciled against the open requests like
    any other moment, so nothing is replayed or missed. Health is not followed here.
    """
    query = sql.SQL("subscribe (select {} from {}) with (progress)").format(
        _columns(ALERT_COLUMNS), sql.Identifier(*relation.split("."))
    )
    with mz_conn.cursor() as cur:
        for timestamp, alerts in fold_subscribe(cur.stream(query)):
            as_of = max((a.as_of for a in alerts.values() if a.as_of), default=None)
            result = apply_snapshot(erp, alerts, mz_timestamp=timestamp, as_of=as_of)
            if on_result is not None:
                on_result(result)
            if should_stop is not None and should_stop():
                return


def _apply(
    erp: psycopg.Connection,
    alerts: Mapping[Pair, Alert],
    health: Sequence[tuple] | None,
    ingest_seq: int | None,
    mz_timestamp: Decimal | None,
    as_of: datetime | None,
) -> SyncResult:
    # two sinks never interleave; a concurrent one waits here and then plans against our rows
    erp.execute("select pg_advisory_xact_lock(%s)", [ERP_SINK_LOCK])
    if _is_behind(erp, ingest_seq, mz_timestamp):
        return SyncResult(0, 0, 0, ingest_seq, mz_timestamp, skipped=True)
    open_requests = {
        (sku, loc): OpenRequest(request_id, sku, loc)
        for request_id, sku, loc in erp.execute(
            "select request_id, sku_id, location_id from erp.replenishment_requests"
            " where status = 'open' for update"
        )
    }
    todo = plan(open_requests, alerts)
    if todo.to_close:
        erp.execute(
            """
            update erp.replenishment_requests
            set status = 'closed', closed_at = now(), closed_seq = %s
            where request_id = any(%s) and status = 'open'
            """,
            [ingest_seq, [r.request_id for r in todo.to_close]],
        )
    if todo.to_open:
        with erp.cursor() as cur:
            cur.executemany(
                sql.SQL(
                    "insert into erp.replenishment_requests ({}, opened_seq) values ({}, %s)"
                ).format(
                    _columns(ALERT_COLUMNS),
                    sql.SQL(", ").join(sql.Placeholder() * len(ALERT_COLUMNS)),
                ),
                [(*alert.values(), ingest_seq) for alert in todo.to_open],
            )
    upserted = upsert_health(erp, health) if health is not None else 0
    erp.execute(
        """
        insert into erp.sink_progress (ingest_seq, mz_timestamp, as_of, synced_at)
        values (%s, %s, %s, now())
        on conflict (is_singleton) do update set
            ingest_seq = excluded.ingest_seq,
            mz_timestamp = excluded.mz_timestamp,
            as_of = excluded.as_of,
            synced_at = excluded.synced_at
        """,
        [ingest_seq, mz_timestamp, as_of],
    )
    return SyncResult(len(todo.to_open), len(todo.to_close), upserted, ingest_seq, mz_timestamp)


def _is_behind(
    erp: psycopg.Connection, ingest_seq: int | None, mz_timestamp: Decimal | None
) -> bool:
    """Whether the ERP already holds a later moment than this one: applying an older snapshot
    after a newer one would reopen or close requests the newer one settled."""
    row = erp.execute("select ingest_seq, mz_timestamp from erp.sink_progress").fetchone()
    if row is None:
        return False
    done_seq, done_ts = row
    return (ingest_seq is not None and done_seq is not None and done_seq > ingest_seq) or (
        mz_timestamp is not None and done_ts is not None and done_ts > mz_timestamp
    )


def _columns(names: Sequence[str]) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _crash_point(name: str) -> None:
    """Die here, as a kill -9 would, when the test asks for it: no cleanup, no rollback by us."""
    if get_settings().sink_crash_at == name:
        os._exit(137)
