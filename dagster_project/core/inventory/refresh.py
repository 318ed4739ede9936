"""Running the dbt project against the platform database, for `inventory refresh` and Dagster."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from dagster_project.core.db import connect, database_url
from dagster_project.core.db.locks import RefreshBusy, held_lease, refresh_lease
from dagster_project.core.db.roles import TRANSFORM
from dagster_project.core.settings import PROJECT_ROOT, Settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def dbt_paths(settings: Settings) -> dict[str, str]:
    """Where dbt finds the project and may write (inside the state folder); enough to parse."""
    dbt_dir = settings.state_dir / "dbt"
    return {
        "DBT_TARGET_PATH": str(dbt_dir / "target"),
        "DBT_LOG_PATH": str(dbt_dir / "logs"),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_env(settings: Settings) -> dict[str, str]:
    """What the dbt profile reads: the connection, split out of the database URL, and the
    paths. dbt connects as inventory_transform, the owner of the schemas it builds (with
    INVENTORY_DATABASE_URL, as the URL's user). For the embedded server, its socket when it has
    one: dbt opens a connection for every model it runs, and over the socket that skips TCP and
    the password exchange."""
    url = urlsplit(database_url(settings, TRANSFORM))
    host = url.hostname or "127.0.0.1"
    if settings.uses_embedded and (settings.socket_dir / f".s.PGSQL.{url.port}").exists():
        host = str(settings.socket_dir)
    return {
        "INVENTORY_PG_HOST": host,
        "INVENTORY_PG_PORT": str(url.port or 5432),
        "INVENTORY_PG_USER": unquote(url.username or TRANSFORM),
        "INVENTORY_PG_PASSWORD": unquote(url.password or ""),
        "INVENTORY_PG_DBNAME": url.path.lstrip("/") or "inventory",
        **dbt_paths(settings),
    }


class DbtError(RuntimeError):
    """dbt reported a failure; the message carries what it said."""


@dataclass(frozen=True)
class RefreshResult:
    as_of: datetime | None
    full_refresh: bool
    models: int
    seconds: float


def run_dbt(settings: Settings, args: list[str]) -> object:
    """Invoke dbt in this process (about 0.5 s of overhead instead of 6 s for a new process)."""
    return _invoke(settings, args)


def _invoke(settings: Settings, args: list[str], manifest: object | None = None) -> object:
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(settings))
    result = dbtRunner(manifest=manifest).invoke(
        [*args, "--project-dir", str(DBT_PROJECT_DIR), "--quiet"]
    )
    if not result.success:
        failures = []
        for node in getattr(result.result, "results", None) or []:
            if str(node.status) in ("error", "fail", "runtime error"):
                failures.append(f"{node.node.name}: {node.message}")
        detail = "; ".join(failures) or str(result.exception or "see the dbt log")
        raise DbtError(f"dbt {args[0]} failed: {detail}")
    return result.result


# The clock table (macros/refresh_log.sql), for tests and benches that set the instant the views
# read without a dbt run.
CLOCK_DDL = """
create schema if not exists intermediate;
create table if not exists intermediate.refresh_clock (
    as_of timestamptz not null,
    is_singleton boolean primary key default true check (is_singleton),
    run_seq bigint not null default 0
)
"""


# State models that only add up rows of one landing table after their own through_seq: with no
# such rows a run of theirs changes nothing (int_demand_velocity also moves with as_of, so it
# is not listed). Checked through the landing tables' primary key, one index probe each.
SOURCE_ONLY_MODELS = {
    "int_wip_totals": "raw.mes_events",
    "int_scrap_hourly": "raw.mes_events",
    "int_order_lines_current": "raw.order_lines",
}


def _prepare_run(settings: Settings, as_of: datetime, find_idle: bool) -> tuple[bool, list[str]]:
    """Leave the instant on the lease this process holds, for the run's start hook
    (macros/refresh_lease.sql), not as a dbt var: a var that changes on every refresh would make
    dbt re-parse the whole project each time. Return whether every mart view exists and (when
    asked) which of SOURCE_ONLY_MODELS have nothing new to add."""
    idle = []
    with connect(settings) as conn:
        requested = conn.execute(
            "update ops.refresh_lease set requested_as_of = %s where holder = %s",
            [as_of, held_lease()],
        )
        if requested.rowcount != 1:
            raise DbtError("the refresh lease was lost before the run started")
        # pg_catalog, not information_schema.views: a tenth of the time
        views = conn.execute(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'marts' and c.relkind = 'v'"
        ).fetchone()[0]
        if find_idle:
            for model, source in SOURCE_ONLY_MODELS.items():
                table = f"intermediate.{model}"
                if conn.execute("select to_regclass(%s)", [table]).fetchone()[0] is None:
                    continue
                # both ends of an index: a range condition on a subquery's value would be
                # planned as a scan of the whole landing table
                has_new = conn.execute(
                    f"""
                    select coalesce((select max(ingest_seq) from {source}), 0)
                        > (select coalesce(max(through_seq), 0) from {table})
                    """
                ).fetchone()[0]
                if not has_new:
                    idle.append(model)
    in_place = views >= len(list((DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")))
    return in_place, idle


@contextmanager
def _lease(
    settings: Settings, role: str, wait: bool, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    with refresh_lease(settings, role, wait=wait, on_wait=on_wait) as taken:
        if not taken:
            raise RefreshBusy("another refresh holds the incremental state (ops.refresh_lease)")
        yield


def project_stamp() -> float:
    """The newest modification time among the files dbt parses."""
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        files += (DBT_PROJECT_DIR / folder).rglob("*")
    return max((f.stat().st_mtime for f in files if f.is_file()), default=0.0)


class Refresher:
    """Refreshes the marts again and again from one long-lived process (a stream worker calls
    `refresh()` every few seconds): the project is parsed once and the manifest handed to every
    dbt run, which saves dbt's start-up (partial parse, writing manifest.json and
    run_results.json) on each refresh. A change to the project's files is noticed and parsed.
    Not thread-safe: one refresh at a time per Refresher.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self._manifest: object | None = None
        self._stamp = 0.0

    def _current_manifest(self) -> object:
        stamp = project_stamp()
        if self._manifest is None or stamp != self._stamp:
            self._manifest = _invoke(self.settings, ["parse"])
            self._stamp = stamp
        return self._manifest

    def refresh(
        self, as_of: datetime | None = None, full_refresh: bool = False, *, wait: bool = True
    ) -> RefreshResult:
        """Bring every mart up to date with the committed events, as of `as_of` (default: now).
        Another writer's refresh is waited for, or with wait=False raises RefreshBusy."""
        started = time.perf_counter()
        with _lease(self.settings, "stream worker refresh", wait):
            views_in_place, idle = _prepare_run(
                self.settings, as_of or datetime.now(UTC), find_idle=not full_refresh
            )
            # a refresh every few seconds: no JSON artifacts, and only warnings in dbt.log (the
            # debug log of every statement would grow by about 0.4 MB per refresh)
            args = ["run", "--no-write-json", "--log-level-file", "warn"]
            if full_refresh:
                args.append("--full-refresh")
            elif views_in_place:
                # as in refresh(); and each dbt model costs some 50 ms even with nothing to do
                args += ["--exclude", "config.materialized:view", *idle]
            results = _invoke(self.settings, args, manifest=self._current_manifest())
        return RefreshResult(
            as_of=as_of,
            full_refresh=full_refresh,
            models=len(results or []),
            seconds=time.perf_counter() - started,
        )


def refresh(
    settings: Settings,
    as_of: datetime | None = None,
    full_refresh: bool = False,
    *,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> RefreshResult:
    """Bring every mart up to date with the committed events, as of `as_of` (default: now).
    Another writer's refresh is waited for (`on_wait` hears for whom), or with wait=False raises
    RefreshBusy. A process that refreshes repeatedly should keep one `Refresher` instead."""
    started = time.perf_counter()
    with _lease(settings, "inventory refresh", wait, on_wait):
        views_in_place = _prepare_run(settings, as_of or datetime.now(UTC), find_idle=False)[0]
        args = ["run"]
        if full_refresh:
            args.append("--full-refresh")
        elif views_in_place:
            # Views read the state tables and the clock when queried; re-creating them on every
            # refresh costs dbt about 50 ms each. A new version of the models needs
            # --full-refresh.
            args += ["--exclude", "config.materialized:view"]
        results = run_dbt(settings, args)
    return RefreshResult(
        as_of=as_of,
        full_refresh=full_refresh,
        models=len(results or []),
        seconds=time.perf_counter() - started,
    )
