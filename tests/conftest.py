"""One embedded PostgreSQL server for the whole session, in a state folder inside the project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from dagster_project.core.db import connect, ensure_database
from dagster_project.core.db.roles import SUPERUSER
from dagster_project.core.db.server import EmbeddedServer
from dagster_project.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
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
    """The longest files first (a timeout of their own, then any slow test), each file's tests
    kept together and in order: with `--dist loadfile --no-loadscope-reorder` (dev.py) the
    workers take files in this order, so the long ones run beside the short ones instead of
    alone at the end (xdist's default puts files with the most tests first)."""

    def weight(item: pytest.Item) -> float:
        timeout = item.get_closest_marker("timeout")
        if timeout is not None and timeout.args:
            return float(timeout.args[0])
        return 1.0 if item.get_closest_marker("slow") else 0.0

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


def run_cli(*args: str, env: dict[str, str] | None = None, input: bytes | None = None):
    """Run the `inventory` command in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli", *args],
        input=input,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
