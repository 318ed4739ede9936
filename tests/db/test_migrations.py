"""Migrations apply once, in order, whoever runs them and however often."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from dagster_project.core.db.migrate import available, migrate


@pytest.fixture
def fresh_url(database):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("drop database if exists migrations_test")
        conn.execute("create database migrations_test")
    parts = urlsplit(database)
    yield urlunsplit(parts._replace(path="/migrations_test"))
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("drop database if exists migrations_test with (force)")


def test_all_migrations_apply_once(fresh_url):
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        first = migrate(conn)
        second = migrate(conn)
        versions = [
            v for (v,) in conn.execute("select version from raw.schema_migrations order by 1")
        ]

    assert [m.version for m in first] == [m.version for m in available()]
    assert second == []
    assert versions == [m.version for m in available()]


def test_concurrent_migrations_serialise(fresh_url):
    errors, applied = [], []

    def run():
        try:
            with psycopg.connect(fresh_url, autocommit=True) as conn:
                applied.append(len(migrate(conn)))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(applied) == [0, 0, 0, len(available())]


def test_an_edited_migration_is_refused(fresh_url):
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        migrate(conn)
        conn.execute("update raw.schema_migrations set checksum = 'edited' where version = 1")
        with pytest.raises(RuntimeError, match="was changed after it was applied"):
            migrate(conn)


def test_landing_schema_has_the_contract_tables(conn):
    tables = {
        t
        for (t,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        )
    }
    assert {
        "wms_events",
        "mes_events",
        "order_lines",
        "skus",
        "sku_params",
        "uom_conversions",
        "physical_counts",
        "quarantine",
        "ingest_batches",
    } <= tables


def test_migrating_as_a_superuser_grants_the_roles_their_rights_only(fresh_url):
    # what `inventory db migrate` does on a server of your own (INVENTORY_DATABASE_URL)
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        migrate(conn)

        def may(role: str, table: str, privilege: str) -> bool:
            return conn.execute(
                "select has_table_privilege(%s, %s, %s)", [role, table, privilege]
            ).fetchone()[0]

        for table in ("raw.wms_events", "raw.mes_events", "raw.order_lines", "raw.physical_counts"):
            assert may("inventory_ingest", table, "insert")
            assert may("inventory_transform", table, "select")
            for role in ("inventory_ingest", "inventory_transform"):
                for privilege in ("update", "delete", "truncate"):
                    assert not may(role, table, privilege), (role, table, privilege)
        for role in ("inventory_ingest", "inventory_transform"):
            assert not may(role, "reconciliation.decisions", "insert")
            assert not may(role, "reconciliation.decisions", "update")
        assert conn.execute(
            "select has_function_privilege('inventory_transform',"
            " 'reconciliation.close_decision(text, text, text, text, jsonb)', 'execute')"
        ).fetchone()[0]
        assert not conn.execute(
            "select has_database_privilege('public', current_database(), 'connect')"
        ).fetchone()[0]
