"""The erp database: created by its migrations, an external URL, and a reader that sees only the
ERP's tables."""

from __future__ import annotations

import stat
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from dagster_project.core.db.migrate import ERP, available
from dagster_project.core.db.server import EmbeddedServer
from dagster_project.core.erp import ensure_erp, erp_url, reader_url
from dagster_project.core.erp.database import READER_PASSWORD_FILE

ERP_TABLES = (
    "replenishment_requests",
    "inventory_health_live",
    "stock_adjustments",
    "sink_progress",
)


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def recorded(conn: psycopg.Connection) -> list[int]:
    return [v for (v,) in conn.execute("select version from erp.schema_migrations order by 1")]


def test_the_erp_tables_come_from_its_migrations_applied_once(erp, settings):
    every = [m.version for m in available(ERP)]
    assert recorded(erp) == every
    ensure_erp(settings)
    assert recorded(erp) == every
    tables = {t for (t,) in erp.execute("select tablename from pg_tables where schemaname = 'erp'")}
    assert tables == {*ERP_TABLES, "schema_migrations"}


def test_an_erp_database_made_before_its_migrations_takes_them_as_applied(erp, settings):
    # what an older version left: the tables (it ran their DDL at every start), no record of it
    erp.execute("insert into erp.sink_progress (ingest_seq) values (7)")
    erp.execute("drop table erp.schema_migrations")

    ensure_erp(settings)

    assert recorded(erp) == [m.version for m in available(ERP)]
    assert erp.execute("select ingest_seq from erp.sink_progress").fetchone() == (7,)


def test_an_erp_migration_changed_after_it_was_applied_is_refused(erp, settings):
    erp.execute("update erp.schema_migrations set checksum = 'edited' where version = 1")
    with pytest.raises(RuntimeError, match="was changed after it was applied"):
        ensure_erp(settings)


def test_ensure_erp_is_idempotent(erp, settings):
    erp.execute("insert into erp.sink_progress (ingest_seq) values (7)")

    assert ensure_erp(settings) == erp_url(settings)
    assert erp.execute("select ingest_seq from erp.sink_progress").fetchone() == (7,)


def test_the_reader_selects_the_erp_tables_and_writes_nothing(erp, settings):
    with psycopg.connect(reader_url(settings), autocommit=True) as reader:
        assert reader.info.user == "erp_reader" and reader.info.dbname == "erp"
        for table in ERP_TABLES:
            assert reader.execute(f"select count(*) from erp.{table}").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("insert into erp.sink_progress (ingest_seq) values (1)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("create table public.mine (x int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("select * from erp.schema_migrations")
    password_file = settings.state_dir / READER_PASSWORD_FILE
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600


def test_the_reader_cannot_reach_the_inventory_database(erp, conn, settings):
    inventory = with_database(reader_url(settings), "inventory")

    with pytest.raises(
        psycopg.OperationalError, match='permission denied for database "inventory"'
    ):
        psycopg.connect(inventory)
    # and, were CONNECT ever granted, nothing in the landing or the marts is granted to it
    for schema in ("raw", "staging", "intermediate", "marts"):
        conn.execute(f"create schema if not exists {schema}")
        granted = conn.execute(
            "select has_schema_privilege('erp_reader', %s, 'usage')", [schema]
        ).fetchone()[0]
        assert not granted, schema
    assert not conn.execute(
        "select has_database_privilege('erp_reader', 'inventory', 'connect')"
    ).fetchone()[0]


def test_the_reader_password_can_come_from_the_environment(reset_erp, settings, monkeypatch):
    monkeypatch.setenv("ERP_READER_PASSWORD", "from the environment")
    reset_erp()

    assert urlsplit(reader_url(settings)).password == "from%20the%20environment"
    with psycopg.connect(reader_url(settings)) as reader:
        assert reader.execute("select count(*) from erp.sink_progress").fetchone() == (0,)


def test_an_external_erp_database(reset_erp, settings, monkeypatch):
    reset_erp()
    admin = EmbeddedServer(settings).info().url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("drop database if exists erp_elsewhere with (force)")
        conn.execute("create database erp_elsewhere")
    external = with_database(admin, "erp_elsewhere")
    monkeypatch.setenv("ERP_DATABASE_URL", external)
    try:
        assert ensure_erp(settings) == external == erp_url(settings)
        with psycopg.connect(external) as conn:
            assert recorded(conn) == [m.version for m in available(ERP)]
        with psycopg.connect(reader_url(settings)) as reader:
            assert reader.info.dbname == "erp_elsewhere"
            assert reader.execute("select count(*) from erp.sink_progress").fetchone() == (0,)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("drop database erp_elsewhere with (force)")
