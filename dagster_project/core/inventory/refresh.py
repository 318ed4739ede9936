"""Running the dbt project against the platform database, for `inventory refresh` and Dagster."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dagster_project.core.db import connect, database_url
from dagster_project.core.db.locks import RefreshBusy, held_lease, refresh_lease
from dagster_project.core.db.roles import TRANSFORM
from dagster_project.core.inventory.deploy import (
    Model,
    build_beside,
    changed_models,
    deploy_lock,
    models_of,
    project_vars,
    read_record,
    record_deployment,
    swap_in,
)
from dagster_project.core.settings import PROJECT_ROOT, Settings

# INVENTORY_DBT_PROJECT_DIR: another checkout of the dbt project (a branch being tried out)
DBT_PROJECT_DIR = Settings().dbt_project_dir
BUNDLED_PROJECT_DIR = (PROJECT_ROOT / "dbt_project").resolve()
# a deployment that failed is tried again after this long, or as soon as the project changes
DEPLOY_RETRY_SECONDS = 60.0


def target_dir(settings: Settings) -> Path:
    """Where dbt writes the project's manifest and compiled SQL: a folder per project, since a
    manifest is judged fresh by its age alone (manifest.py), and one parsed from another
    checkout is newer than every file of this one."""
    dbt_dir = settings.state_dir / "dbt"
    if DBT_PROJECT_DIR.resolve() == BUNDLED_PROJECT_DIR:
        return dbt_dir / "target"
    tag = hashlib.sha256(str(DBT_PROJECT_DIR.resolve()).encode()).hexdigest()[:12]
    return dbt_dir / f"target-{tag}"


def dbt_paths(settings: Settings) -> dict[str, str]:
    """Where dbt finds the project and may write (inside the state folder); enough to parse."""
    dbt_dir = settings.state_dir / "dbt"
    return {
        "DBT_TARGET_PATH": str(target_dir(settings)),
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
    # the changed models this refresh deployed (and their downstream), in build order
    deployed: tuple[str, ...] = ()


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


def _prepare_run(
    settings: Settings, as_of: datetime, relations: tuple[list[str], list[str]], find_idle: bool
) -> tuple[bool, list[str]]:
    """Leave the instant on the lease this process holds, for the run's start hook
    (macros/refresh_log.sql), not as a dbt var: a var that changes on every refresh would make
    dbt re-parse the whole project each time. Return whether every model's relation (`relations`:
    schemas and names) exists and (when asked) which of SOURCE_ONLY_MODELS have nothing new to
    add."""
    idle = []
    with connect(settings) as conn:
        requested = conn.execute(
            "update ops.refresh_lease set requested_as_of = %s where holder = %s",
            [as_of, held_lease()],
        )
        if requested.rowcount != 1:
            raise DbtError("the refresh lease was lost before the run started")
        missing = conn.execute(
            "select count(*) from unnest(%s::text[], %s::text[]) as r(schema_name, name)"
            " where to_regclass(format('%%I.%%I', r.schema_name, r.name)) is null",
            list(relations),
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
    return missing == 0, idle


@contextmanager
def _lease(
    settings: Settings, role: str, wait: bool, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    with refresh_lease(settings, role, wait=wait, on_wait=on_wait) as taken:
        if not taken:
            raise RefreshBusy("another refresh holds the incremental state (ops.refresh_lease)")
        yield


def _project_files() -> list[Path]:
    """The files dbt parses."""
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        files += (DBT_PROJECT_DIR / folder).rglob("*")
    return [f for f in files if f.is_file()]


def project_stamp() -> float:
    """The newest modification time among the files dbt parses: a cheap sign of a change."""
    return max((f.stat().st_mtime for f in _project_files()), default=0.0)


def project_digest() -> str:
    """What the project is: its files' names and contents. What a deployment records, since a
    copy that keeps older modification times is a change all the same."""
    digest = hashlib.sha256()
    for path in sorted(_project_files()):
        name = str(path.relative_to(DBT_PROJECT_DIR))
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class Refresher:
    """Refreshes the marts again and again from one long-lived process (a stream worker calls
    `refresh()` every few seconds): the project is parsed once and the manifest handed to every
    dbt run, which saves dbt's start-up (partial parse, writing manifest.json and
    run_results.json) on each refresh. A change to the project's files is noticed and parsed,
    and the models it changed are deployed (core/inventory/deploy.py) before the next refresh
    runs them: never their new SQL on state their old SQL built. Not thread-safe: one refresh at
    a time per Refresher.
    """

    def __init__(self, settings: Settings, role: str = "stream worker", *, repeated: bool = True):
        self.settings = settings
        self.role = role
        # refreshing every few seconds: lighter runs (see _run)
        self.repeated = repeated
        self._manifest: object | None = None
        self._stamp = 0.0
        self._digest = ""  # the project as self._manifest was parsed from it
        self._vars: dict = {}
        self._relations: tuple[list[str], list[str]] = ([], [])
        # the last comparison with the deployment: (project digest, recorded digest) -> models
        self._compared: tuple[tuple[str, str], tuple[Model, ...] | None] | None = None
        self._failed: tuple[str, float, str] | None = None  # digest, when, why

    def _invoke(self, args: list[str], manifest: object | None = None) -> object:
        return _invoke(self.settings, args, manifest)

    def prepare(self) -> None:
        """Parse the project now instead of at the first refresh: a process that forks its
        refreshes (tests/faults/plant.py) parses once, before the forks."""
        self._current_manifest()

    def _current_manifest(self, before_parse: Callable[[], None] = lambda: None) -> object:
        stamp = project_stamp()
        if self._manifest is None or stamp != self._stamp:
            before_parse()
            # read before the parse: a file changed meanwhile makes the next digest differ
            digest, variables = project_digest(), project_vars(DBT_PROJECT_DIR)
            self._manifest = _invoke(self.settings, ["parse"])
            self._stamp, self._digest, self._vars = stamp, digest, variables
            models = models_of(self._manifest).values()
            self._relations = ([m.schema for m in models], [m.alias for m in models])
        return self._manifest

    def _to_deploy(
        self, manifest: object, full_refresh: bool
    ) -> tuple[tuple[Model, ...] | None, str | None]:
        """The models to deploy before this refresh (None: nothing to compare with, every model
        runs as it always did), and the recorded deployment's digest they were found against.
        Costs a small file's read while the project is the deployed one."""
        record = read_record(self.settings)
        recorded = record["digest"] if record else None
        if full_refresh:
            return None, recorded
        if recorded == self._digest:
            return (), recorded
        key = (self._digest, recorded or "")
        if self._compared is None or self._compared[0] != key:
            found = changed_models(self.settings, manifest, self._digest, self._vars, self._invoke)
            self._compared = (key, found)
        return self._compared[1], recorded

    @contextmanager
    def _deploying(self, models: tuple[Model, ...]) -> Iterator[None]:
        """A failed deployment is reported, and tried again only when the project changes or
        DEPLOY_RETRY_SECONDS have passed (the worker would otherwise rebuild on every tick)."""
        if self._failed and self._failed[0] == self._digest:
            wait = DEPLOY_RETRY_SECONDS - (time.monotonic() - self._failed[1])
            if wait > 0:
                raise DbtError(f"{self._failed[2]} (tried again in {wait:.0f} s)")
        try:
            yield
        except RefreshBusy:
            raise
        except Exception as exc:
            names = ", ".join(m.name for m in models)
            self._failed = (self._digest, time.monotonic(), f"deploying {names} failed: {exc}")
            raise DbtError(self._failed[2]) from exc

    def refresh(
        self,
        as_of: datetime | None = None,
        full_refresh: bool = False,
        *,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> RefreshResult:
        """Deploy the models changed since the last deployment, then bring every mart up to date
        with the committed events, as of `as_of` (default: now). Another writer's refresh or
        deployment is waited for (`on_wait` hears for whom), or with wait=False raises
        RefreshBusy."""
        started = time.perf_counter()

        def held_elsewhere() -> None:
            # a parse takes seconds: a writer that does not wait hears of another's lease first
            if not wait and held_lease() is None:
                with _lease(self.settings, self.role, wait=False, on_wait=on_wait):
                    pass

        manifest = self._current_manifest(held_elsewhere)
        dbt_beside = lambda args: _invoke(self.settings, args)  # noqa: E731 (its own parse)
        while True:
            changes, recorded = self._to_deploy(manifest, full_refresh)
            with ExitStack() as held:
                if changes:
                    # inside a lease this process holds (the nightly validation), waiting for
                    # another deployment, which waits for that lease, would never end
                    held.enter_context(
                        deploy_lock(
                            self.settings, wait=wait and held_lease() is None, on_wait=on_wait
                        )
                    )
                    if (read_record(self.settings) or {}).get("digest") != recorded:
                        continue  # another process deployed meanwhile: compare again
                    with self._deploying(changes):
                        build_beside(self.settings, manifest, changes, dbt_beside)
                held.enter_context(_lease(self.settings, self.role, wait, on_wait))
                if (read_record(self.settings) or {}).get("digest") != recorded:
                    continue  # deployed by another process while this one waited
                if changes:
                    with self._deploying(changes):
                        swap_in(self.settings, manifest, changes, dbt_beside, self._invoke)
                    record_deployment(self.settings, manifest, self._digest, self._vars, changes)
                results = self._run(manifest, as_of, full_refresh)
                if changes is None or (recorded != self._digest and not changes):
                    # the first deployment, a full rebuild, or a change of nothing dbt builds
                    record_deployment(self.settings, manifest, self._digest, self._vars, ())
            return RefreshResult(
                as_of=as_of,
                full_refresh=full_refresh,
                models=len(results or []),
                seconds=time.perf_counter() - started,
                deployed=tuple(m.name for m in changes or ()),
            )

    def _run(self, manifest: object, as_of: datetime | None, full_refresh: bool) -> object:
        complete, idle = _prepare_run(
            self.settings,
            as_of or datetime.now(UTC),
            self._relations,
            find_idle=self.repeated and not full_refresh,
        )
        args = ["run"]
        if self.repeated:
            # a refresh every few seconds: no JSON artifacts, and only warnings in dbt.log (the
            # debug log of every statement would grow by about 0.4 MB per refresh)
            args += ["--no-write-json", "--log-level-file", "warn"]
        if full_refresh:
            args.append("--full-refresh")
        elif complete:
            # views read the state tables and the clock when queried, and a deployment replaces
            # the changed ones; each dbt model costs some 50 ms even with nothing to do. A
            # missing relation (a new database) makes the run build every model.
            args += ["--exclude", "config.materialized:view", *idle]
        return _invoke(self.settings, args, manifest=manifest)


def refresh(
    settings: Settings,
    as_of: datetime | None = None,
    full_refresh: bool = False,
    *,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> RefreshResult:
    """Deploy the changed models and bring every mart up to date, as of `as_of` (default: now).
    Another writer's refresh is waited for (`on_wait` hears for whom), or with wait=False raises
    RefreshBusy. A process that refreshes repeatedly should keep one `Refresher` instead."""
    return Refresher(settings, role="inventory refresh", repeated=False).refresh(
        as_of, full_refresh, wait=wait, on_wait=on_wait
    )
