"""The nightly proof that incremental upkeep is exact: rebuild every model from all events into
shadow schemas and compare them, row for row, with the live ones: the marts, and the state
tables behind them (less the columns that say how far an incremental run has got).

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
from pathlib import Path

import psycopg
from psycopg import sql

from dagster_project.core.db import connect
from dagster_project.core.db.locks import INGEST_LOCK, advisory_lock, refresh_lease
from dagster_project.core.inventory.refresh import refresh, run_dbt
from dagster_project.core.settings import Settings

SHADOW_PREFIX = "shadow_"
SAMPLE_ROWS = 5
# sums of the same numbers in another order may differ in the last bits of a float
DIGITS = 9


@dataclass(frozen=True)
class Comparable:
    """A relation dbt builds, and what of it must equal a full rebuild: every column but the
    model's `meta.bookkeeping_columns` (where an incremental run has got to: through_seq, the
    run that changed a row, and as_of, the read instant on position), on the rows its
    `meta.kept_rows` condition keeps (state tables keep rows a rebuild has none of, such as a
    count gone to zero, which the marts leave out)."""

    schema: str
    name: str
    ignored: frozenset[str] = frozenset({"as_of"})
    kept_rows: str | None = None

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"


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


def _shadow_target(settings: Settings) -> Path:
    return settings.state_dir / "dbt" / "shadow-target"


def shadow_run(settings: Settings, as_of: datetime | None, full_refresh: bool) -> None:
    """Build every model beside the live state, as of `as_of`, or (None) at the live clock's
    instant. At the live clock's instant the as_of var is left out: with the same vars from run
    to run, dbt's partial parse of the shadow's own target folder saves a full parse (some 5 s).
    The clock is read before the run: the caller holds the refresh lease (or nothing else
    refreshes), or a refresh in between would build the shadow at its instant instead."""
    shadow_vars = {"schema_prefix": SHADOW_PREFIX}
    if as_of is not None and as_of != _live_clock(settings):
        shadow_vars["as_of"] = as_of.isoformat()
    args = [
        "run",
        "--target-path",
        str(_shadow_target(settings)),
        "--vars",
        json.dumps(shadow_vars),
    ]
    run_dbt(settings, [*args, "--full-refresh"] if full_refresh else args)


def _live_clock(settings: Settings) -> datetime | None:
    with connect(settings) as conn:
        if conn.execute("select to_regclass('intermediate.refresh_clock')").fetchone()[0] is None:
            return None
        row = conn.execute("select as_of from intermediate.refresh_clock").fetchone()
    return row[0] if row else None


def comparables(manifest_path: Path) -> list[Comparable]:
    """Every relation the project builds on Postgres, from a manifest parsed without the shadow
    prefix's effect on names (schemas are taken without it)."""
    manifest = json.loads(manifest_path.read_text())
    found = []
    for node in manifest["nodes"].values():
        config = node["config"]
        if node["resource_type"] != "model" or not config.get("enabled", True):
            continue
        if config.get("materialized") not in ("view", "incremental", "table"):
            continue
        # a view over the landing tables alone is the same query on the same rows on both sides
        if all(parent.startswith("source.") for parent in node["depends_on"]["nodes"]):
            continue
        meta = config.get("meta") or {}
        found.append(
            Comparable(
                schema=node["schema"].removeprefix(SHADOW_PREFIX),
                name=node["alias"] or node["name"],
                ignored=frozenset({"as_of", *meta.get("bookkeeping_columns", [])}),
                kept_rows=meta.get("kept_rows"),
            )
        )
    return sorted(found, key=lambda c: c.label)


def _columns(conn: psycopg.Connection, relation: Comparable) -> list[tuple[str, str]]:
    return conn.execute(
        """
        select a.attname, format_type(a.atttypid, a.atttypmod)
        from pg_attribute as a
        where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped
        order by a.attnum
        """,
        [sql.Identifier(relation.schema, relation.name).as_string()],
    ).fetchall()


def _comparable(columns: list[tuple[str, str]], ignored: frozenset[str]) -> sql.Composable:
    items = []
    for name, data_type in columns:
        if name in ignored:
            continue
        column = sql.Identifier(name)
        if data_type in ("numeric", "double precision", "real"):
            items.append(sql.SQL("round({}::numeric, {}) as {}").format(column, DIGITS, column))
        else:
            items.append(column)
    return sql.SQL(", ").join(items)


def compare(
    conn: psycopg.Connection, relation: Comparable, as_of: datetime
) -> tuple[int, MartDifference | None]:
    """Rows of the live relation, and how it differs from its shadow (None when identical)."""
    select = _comparable(_columns(conn, relation), relation.ignored)
    live = sql.Identifier(relation.schema, relation.name)
    shadow = sql.Identifier(SHADOW_PREFIX + relation.schema, relation.name)
    # the condition may name the instant the two sides are as of
    kept = sql.SQL(relation.kept_rows or "true").format(as_of=sql.Literal(as_of))
    query = sql.SQL(
        """
        with live as (select {select} from {live} where {kept}),
            shadow as (select {select} from {shadow} where {kept}),
            live_only as (select * from live except all select * from shadow),
            shadow_only as (select * from shadow except all select * from live)
        select 'live' as side, to_jsonb(l) as row_data from live_only as l
        union all
        select 'shadow', to_jsonb(s) from shadow_only as s
        """
    ).format(select=select, live=live, shadow=shadow, kept=kept)
    rows = conn.execute(query).fetchall()
    count = conn.execute(sql.SQL("select count(*) from {} where {}").format(live, kept)).fetchone()[
        0
    ]
    if not rows:
        return count, None
    sides = [side for side, _ in rows]
    sample = [{"side": side, **data} for side, data in rows[:SAMPLE_ROWS]]
    return count, MartDifference(relation.label, sides.count("live"), sides.count("shadow"), sample)


def compare_with_shadow(
    conn: psycopg.Connection, settings: Settings, as_of: datetime
) -> tuple[list[str], dict[str, int], list[MartDifference]]:
    """Compare every relation the project builds with its shadow, in the caller's snapshot."""
    relations = comparables(_shadow_target(settings) / "manifest.json")
    rows, differences = {}, []
    for relation in relations:
        rows[relation.label], difference = compare(conn, relation, as_of)
        if difference:
            differences.append(difference)
    return [r.label for r in relations], rows, differences


def validate_against_full_rebuild(
    settings: Settings, as_of: datetime | None = None
) -> ValidationResult:
    """Rebuild into shadow schemas, catch both sides up to the same events, compare every mart."""
    as_of = as_of or datetime.now(UTC)
    # models changed since the last deployment are deployed first, while events still arrive:
    # the rebuild below is of the project as it is now
    refresh(settings, as_of=as_of)
    with refresh_lease(settings, "nightly validation"):
        started = time.perf_counter()
        shadow_run(settings, as_of, full_refresh=True)
        rebuild_seconds = time.perf_counter() - started
        with advisory_lock(settings, INGEST_LOCK):
            paused = time.perf_counter()
            shadow_run(settings, as_of, full_refresh=False)
            refresh(settings, as_of=as_of)
            with connect(settings) as conn, conn.transaction():
                conn.execute("set transaction isolation level repeatable read read only")
                marts, rows, differences = compare_with_shadow(conn, settings, as_of)
            paused_seconds = time.perf_counter() - paused
    return ValidationResult(as_of, marts, rows, differences, rebuild_seconds, paused_seconds)
