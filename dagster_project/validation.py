"""The nightly proof that incremental upkeep is exact: rebuild every mart from all events into
shadow schemas and compare them, row for row, with the live marts.

The rebuild runs while events keep arriving. Then, with ingestion paused for a moment (the ingest
lock: batches wait, nothing is refused), both sides catch up to the same events incrementally
and are compared in one snapshot. The live stream worker skips its refreshes meanwhile (the
refresh lock), and reads stay current throughout.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from dagster_project.db import connect
from dagster_project.db.locks import advisory_lock, refresh_lock
from dagster_project.ingest.batch import INGEST_LOCK
from dagster_project.settings import Settings
from dagster_project.transform import refresh, run_dbt

SHADOW_PREFIX = "shadow_"
LIVE_SCHEMA = "marts"
SAMPLE_ROWS = 5
# as_of is the read instant on position (now()); every other figure must agree exactly
IGNORED_COLUMNS = {"as_of"}
# sums of the same numbers in another order may differ in the last bits of a float
DIGITS = 9


@dataclass(frozen=True)
class MartDifference:
    mart: str
    live_only: int
    shadow_only: int
    sample: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class ValidationResult:
    as_of: datetime
    marts: list[str]
    rows: dict[str, int]
    differences: list[MartDifference]
    rebuild_seconds: float
    paused_seconds: float

    @property
    def passed(self) -> bool:
        return not self.differences


def _shadow_run(settings: Settings, as_of: datetime, full_refresh: bool) -> None:
    args = [
        "run",
        "--target-path",
        str(settings.state_dir / "dbt" / "shadow-target"),
        "--vars",
        json.dumps({"schema_prefix": SHADOW_PREFIX, "as_of": as_of.isoformat()}),
    ]
    run_dbt(settings, [*args, "--full-refresh"] if full_refresh else args)


def _columns(conn: psycopg.Connection, mart: str) -> list[tuple[str, str]]:
    return conn.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_schema = %s and table_name = %s order by ordinal_position
        """,
        [LIVE_SCHEMA, mart],
    ).fetchall()


def _comparable(columns: list[tuple[str, str]]) -> sql.Composable:
    items = []
    for name, data_type in columns:
        if name in IGNORED_COLUMNS:
            continue
        column = sql.Identifier(name)
        if data_type in ("numeric", "double precision", "real"):
            items.append(sql.SQL("round({}::numeric, {}) as {}").format(column, DIGITS, column))
        else:
            items.append(column)
    return sql.SQL(", ").join(items)


def compare(conn: psycopg.Connection, mart: str) -> tuple[int, MartDifference | None]:
    """Rows of the live mart, and how it differs from its shadow (None when identical)."""
    select = _comparable(_columns(conn, mart))
    live = sql.Identifier(LIVE_SCHEMA, mart)
    shadow = sql.Identifier(SHADOW_PREFIX + LIVE_SCHEMA, mart)
    query = sql.SQL(
        """
        with live as (select {select} from {live}),
            shadow as (select {select} from {shadow}),
            live_only as (select * from live except all select * from shadow),
            shadow_only as (select * from shadow except all select * from live)
        select 'live' as side, to_jsonb(l) as row_data from live_only as l
        union all
        select 'shadow', to_jsonb(s) from shadow_only as s
        """
    ).format(select=select, live=live, shadow=shadow)
    rows = conn.execute(query).fetchall()
    count = conn.execute(sql.SQL("select count(*) from {}").format(live)).fetchone()[0]
    if not rows:
        return count, None
    sides = [side for side, _ in rows]
    sample = [{"side": side, **data} for side, data in rows[:SAMPLE_ROWS]]
    return count, MartDifference(mart, sides.count("live"), sides.count("shadow"), sample)


def live_marts(conn: psycopg.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            """
            select table_name from information_schema.tables
            where table_schema = %s order by table_name
            """,
            [LIVE_SCHEMA],
        ).fetchall()
    ]


def validate_against_full_rebuild(
    settings: Settings, as_of: datetime | None = None
) -> ValidationResult:
    """Rebuild into shadow schemas, catch both sides up to the same events, compare every mart."""
    as_of = as_of or datetime.now(UTC)
    with refresh_lock(settings):
        started = time.perf_counter()
        _shadow_run(settings, as_of, full_refresh=True)
        rebuild_seconds = time.perf_counter() - started
        with advisory_lock(settings, INGEST_LOCK):
            paused = time.perf_counter()
            _shadow_run(settings, as_of, full_refresh=False)
            refresh(settings, as_of=as_of)
            with connect(settings) as conn, conn.transaction():
                conn.execute("set transaction isolation level repeatable read read only")
                marts = live_marts(conn)
                rows, differences = {}, []
                for mart in marts:
                    rows[mart], difference = compare(conn, mart)
                    if difference:
                        differences.append(difference)
            paused_seconds = time.perf_counter() - paused
    return ValidationResult(as_of, marts, rows, differences, rebuild_seconds, paused_seconds)
