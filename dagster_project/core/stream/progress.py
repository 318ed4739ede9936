"""How far the stream worker has carried the events: written by the worker, read by Dagster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg.rows import class_row

# The event tables share one ingest_seq; the newest number across them is what has been committed.
COMMITTED_SEQ = """
select greatest(
    (select max(ingest_seq) from raw.wms_events),
    (select max(ingest_seq) from raw.mes_events),
    (select max(ingest_seq) from raw.order_lines),
    (select max(ingest_seq) from raw.purchase_orders),
    (select max(ingest_seq) from raw.physical_counts),
    0
)
"""


@dataclass(frozen=True)
class Progress:
    worker_name: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    committed_seq: int
    refreshed_seq: int
    synced_seq: int
    last_refresh_at: datetime | None
    last_refresh_seconds: float | None
    refreshes: int
    requests_opened: int
    requests_closed: int
    last_error: str | None

    def heartbeat_age(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.heartbeat_at).total_seconds()


def committed_seq(conn: psycopg.Connection) -> int:
    return conn.execute(COMMITTED_SEQ).fetchone()[0]


def read_progress(conn: psycopg.Connection, worker_name: str = "stream") -> Progress | None:
    with conn.cursor(row_factory=class_row(Progress)) as cur:
        return cur.execute(
            "select * from ops.stream_progress where worker_name = %s", [worker_name]
        ).fetchone()


def write_progress(conn: psycopg.Connection, p: Progress) -> None:
    conn.execute(
        """
        insert into ops.stream_progress values (
            %(worker_name)s, %(pid)s, %(started_at)s, %(heartbeat_at)s, %(committed_seq)s,
            %(refreshed_seq)s, %(synced_seq)s, %(last_refresh_at)s, %(last_refresh_seconds)s,
            %(refreshes)s, %(requests_opened)s, %(requests_closed)s, %(last_error)s
        )
        on conflict (worker_name) do update set
            pid = excluded.pid,
            started_at = excluded.started_at,
            heartbeat_at = excluded.heartbeat_at,
            committed_seq = excluded.committed_seq,
            refreshed_seq = excluded.refreshed_seq,
            synced_seq = excluded.synced_seq,
            last_refresh_at = excluded.last_refresh_at,
            last_refresh_seconds = excluded.last_refresh_seconds,
            refreshes = excluded.refreshes,
            requests_opened = excluded.requests_opened,
            requests_closed = excluded.requests_closed,
            last_error = excluded.last_error
        """,
        p.__dict__,
    )
