"""One embedded PostgreSQL server for the whole session, in a state folder inside the project."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from dagster_project.core.db import connect, ensure_database
from dagster_project.core.db.roles import SUPERUSER
from dagster_project.core.db.server import EmbeddedServer
from dagster_project.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = ROOT / "dbt_project"
LANDING_TABLES = (
    "raw.wms_events",
    "raw.mes_events",
    "raw.order_lines",
    "raw.purchase_orders",
    "raw.physical_counts",
    "raw.skus",
    "raw.sku_params",
    "raw.uom_conversions",
    "raw.quarantine",
    "raw.ingest_batches",
)

OPS_TABLES = ("ops.stream_progress", "ops.alerts", "ops.sink_holds")

# dbt's state, kept incrementally from ingest_seq: rebuilt from scratch after the landing is emptied
DERIVED_SCHEMAS = ("staging", "intermediate", "marts")


def pytest_configure(config: pytest.Config) -> None:
    # --basetemp (pyproject.toml) is made inside the state folder, which a fresh clone lacks
    (ROOT / ".inventory").mkdir(exist_ok=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest files first (a timeout of their own, then the seconds a `slow(seconds)`
    marker gives, then any slow test), each file's tests kept together and in order: with
    `--dist loadfile --no-loadscope-reorder` (dev.py) the workers take files in this order, so
    the long ones run beside the short ones instead of alone at the end (xdist's default puts
    files with the most tests first)."""

    def weight(item: pytest.Item) -> float:
        timeout = item.get_closest_marker("timeout")
        if timeout is not None and timeout.args:
            return float(timeout.args[0])
        slow = item.get_closest_marker("slow")
        if slow is None:
            return 0.0
        return float(slow.args[0]) if slow.args else 1.0

    by_file: dict[Path, float] = {}
    for item in items:
        by_file[item.path] = max(by_file.get(item.path, 0.0), weight(item))
    items.sort(key=lambda item: -by_file[item.path])


@pytest.fixture(scope="session")
def state_root() -> Iterator[Path]:
    root = ROOT / ".inventory" / f"pytest-{os.getpid()}"
    root.mkdir(parents=True, exist_ok=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(state_root: Path) -> Iterator[Settings]:
    saved = {k: os.environ.get(k) for k in ("INVENTORY_HOME", "INVENTORY_DATABASE_URL")}
    os.environ["INVENTORY_HOME"] = str(state_root / "home")
    os.environ.pop("INVENTORY_DATABASE_URL", None)
    yield Settings()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def database(settings: Settings) -> Iterator[str]:
    url = ensure_database(settings)
    yield url
    EmbeddedServer(settings).stop()


@pytest.fixture
def conn(database: str, settings: Settings) -> Iterator[psycopg.Connection]:
    """A superuser's connection (the reset needs it) to an emptied landing schema, with no
    derived state left over. The code under test connects as its own roles."""
    with connect(settings, SUPERUSER) as connection:
        connection.execute(f"truncate {', '.join(LANDING_TABLES)} restart identity")
        connection.execute("alter sequence raw.ingest_seq restart")
        for schema in DERIVED_SCHEMAS:
            connection.execute(f"drop schema if exists {schema} cascade")
        connection.execute(f"truncate {', '.join(OPS_TABLES)}")
        yield connection


@pytest.fixture
def reset_erp(database: str, settings: Settings, monkeypatch) -> Callable[[], str]:
    """Drop the ERP database and its reader, then create them again; return the ERP URL."""
    from dagster_project.core.erp import ensure_erp

    monkeypatch.delenv("ERP_DATABASE_URL", raising=False)
    monkeypatch.delenv("ERP_READER_PASSWORD", raising=False)

    def reset() -> str:
        admin = EmbeddedServer(settings).info().url("postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("drop database if exists erp with (force)")
            conn.execute("drop role if exists erp_reader")
        return ensure_erp(settings)

    return reset


@pytest.fixture
def erp(reset_erp) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a freshly created ERP database."""
    with psycopg.connect(reset_erp(), autocommit=True) as conn:
        yield conn


def invoke_cli(*args: str):
    """Run the `inventory` command in this process, as `run_cli` does in a child, where the
    process boundary proves nothing (a second import of dagster and dbt: seconds a call).
    The result has exit_code, stdout, stderr, and the exception a failure raised."""
    from typer.testing import CliRunner

    from dagster_project.cli import app

    return CliRunner().invoke(app, list(args), prog_name="inventory")


def run_cli(*args: str, env: dict[str, str] | None = None, input: bytes | None = None):
    """Run the `inventory` command in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli", *args],
        input=input,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dbt_offline(
    work: Path, command: str, target: str, args: tuple[str, ...] = (), project: Path = DBT_PROJECT
) -> None:
    """`dbt <command> --target <target> <args>` of the project (or a copy), in this process
    (dbtRunner: no second import of dbt), with no database server: `parse` reads the project
    alone, and a Materialize `compile` runs against a port where nothing listens
    (macros/materialize_offline_compile.sql). None of the caller's DBT_ variables reach it: the
    project itself must make compile work offline, not a flag such as DBT_POPULATE_CACHE."""
    from dbt.cli.main import dbtRunner

    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("DBT_")]:
        del os.environ[key]
    os.environ.update(MZ_HOST="127.0.0.1", MZ_PORT=str(unused_port()))
    try:
        result = dbtRunner().invoke(
            [command, "--target", target, *args]
            + ["--project-dir", str(project), "--profiles-dir", str(project)]
            + ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
            + ["--quiet", "--no-send-anonymous-usage-stats"]
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    failures = [
        f"{node.node.name}: {node.message}"
        for node in getattr(result.result, "results", None) or []
        if str(node.status) in ("error", "fail", "runtime error")
    ]
    assert result.success, (
        f"dbt {command} --target {target} {' '.join(args)} failed: "
        f"{'; '.join(failures) or result.exception}\n(log: {work / 'logs' / 'dbt.log'})"
    )


@pytest.fixture(scope="session")
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory, testrun_uid: str) -> Callable[..., dict]:
    """`dbt_manifest(command, target, *args)`: the manifest dbt writes for that command, with no
    database server (see dbt_offline). Parsing this project takes 10-30 s, and several files
    need the same manifest (the layout rules, the docs rules, the Materialize compile), so each
    is made once per test run and shared by the xdist workers through a folder of the run,
    under a lock: the first to ask makes it, the others read it. Each call returns a fresh copy."""
    base = tmp_path_factory.getbasetemp()
    shared = base if os.environ.get("PYTEST_XDIST_WORKER") is None else base.parent
    folder = shared / "dbt-manifests"
    folder.mkdir(parents=True, exist_ok=True)
    # a folder per run; those of earlier runs go (a run in this worktree is the only one)
    for old in folder.iterdir():
        if old.name != testrun_uid and old.stat().st_mtime < time.time() - 3600:
            shutil.rmtree(old, ignore_errors=True)
    run = folder / testrun_uid
    run.mkdir(exist_ok=True)

    def get(command: str, target: str, *args: str) -> dict:
        key = json.dumps([command, target, *args])
        name = f"{command}-{target}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
        with open(run / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            manifest = run / name / "target" / "manifest.json"
            if not (run / name / "done").exists():
                shutil.rmtree(run / name, ignore_errors=True)
                dbt_offline(run / name, command, target, args)
                (run / name / "done").write_text(key)
        return json.loads(manifest.read_text())

    return get
