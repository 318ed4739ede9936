"""Versioned, idempotent SQL migrations (`migrations/NNNN_name.sql`), each applied once, in order.

Two databases are migrated this way: the platform's (db/migrations, recorded in
raw.schema_migrations) and the ERP's (erp/migrations, recorded in erp.schema_migrations).
Plain SQL files and a small runner: the schemas are hand-written DDL, so an ORM-centred tool
would add a model layer and nothing else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql

from dagster_project.core.db.locks import ERP_SCHEMA_LOCK, MIGRATION_LOCK
from dagster_project.core.db.roles import ensure_roles

MIN_SERVER_VERSION = 160000  # pg_input_is_valid() validates input without aborting the batch


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class MigrationSet:
    """The migrations of one database: the package whose `migrations/` folder holds them, the
    schema whose `schema_migrations` records them, and the lock that serialises their runners."""

    package: str
    schema: str
    lock: int


PLATFORM = MigrationSet("dagster_project.core.db", "raw", MIGRATION_LOCK)
ERP = MigrationSet("dagster_project.core.erp", "erp", ERP_SCHEMA_LOCK)


def available(migrations: MigrationSet = PLATFORM) -> list[Migration]:
    files = resources.files(migrations.package) / "migrations"
    found = []
    for entry in files.iterdir():
        if entry.name.endswith(".sql"):
            version, _, rest = entry.name.partition("_")
            found.append(Migration(int(version), rest.removesuffix(".sql"), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


def apply_migrations(conn: psycopg.Connection, migrations: MigrationSet) -> list[Migration]:
    """Apply the migrations of `migrations` this database lacks, in one transaction; return
    those applied. Concurrent callers serialise; a migration edited after it was applied is
    refused."""
    table = sql.Identifier(migrations.schema, "schema_migrations")
    applied_now = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", [migrations.lock])
        # CREATE SCHEMA IF NOT EXISTS wants the right to create one even when it exists
        if conn.execute("select to_regnamespace(%s)", [migrations.schema]).fetchone()[0] is None:
            conn.execute(sql.SQL("create schema {}").format(sql.Identifier(migrations.schema)))
        conn.execute(
            sql.SQL(
                """
                create table if not exists {} (
                    version integer primary key,
                    name text not null,
                    checksum text not null,
                    applied_at timestamptz not null default now()
                )
                """
            ).format(table)
        )
        done = dict(
            conn.execute(sql.SQL("select version, checksum from {}").format(table)).fetchall()
        )
        for migration in available(migrations):
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise RuntimeError(
                        f"migration {migration.version}_{migration.name} was changed after it was"
                        " applied; add a new migration instead"
                    )
                continue
            conn.execute(migration.sql)
            conn.execute(
                sql.SQL("insert into {} (version, name, checksum) values (%s, %s, %s)").format(
                    table
                ),
                [migration.version, migration.name, migration.checksum],
            )
            applied_now.append(migration)
    return applied_now


def migrate(conn: psycopg.Connection) -> list[Migration]:
    """Apply the platform migrations this database lacks, then create the application roles and
    grant them their rights (when the migrating user may); return the migrations applied."""
    if conn.info.server_version < MIN_SERVER_VERSION:
        raise RuntimeError(
            f"PostgreSQL {conn.info.server_version // 10000} is too old: 16 or newer is required"
        )
    with conn.transaction():
        applied_now = apply_migrations(conn, PLATFORM)
        # the application roles and their grants, on every run: new tables get theirs
        ensure_roles(conn)
    return applied_now
