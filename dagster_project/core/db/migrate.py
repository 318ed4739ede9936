"""Versioned, idempotent SQL migrations (`migrations/NNNN_name.sql`), each applied once, in order.

Plain SQL files and a small runner: the landing schema is hand-written DDL, so an ORM-centred tool
would add a model layer and nothing else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import psycopg

from dagster_project.core.db.locks import MIGRATION_LOCK
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


def available() -> list[Migration]:
    files = resources.files("dagster_project.core.db") / "migrations"
    found = []
    for entry in files.iterdir():
        if entry.name.endswith(".sql"):
            version, _, rest = entry.name.partition("_")
            found.append(Migration(int(version), rest.removesuffix(".sql"), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


def migrate(conn: psycopg.Connection) -> list[Migration]:
    """Apply the migrations this database lacks, then create the application roles and grant
    them their rights (when the migrating user may); return the migrations applied. Concurrent
    callers serialise."""
    if conn.info.server_version < MIN_SERVER_VERSION:
        raise RuntimeError(
            f"PostgreSQL {conn.info.server_version // 10000} is too old: 16 or newer is required"
        )
    applied_now = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
        conn.execute("create schema if not exists raw")
        conn.execute(
            """
            create table if not exists raw.schema_migrations (
                version integer primary key,
                name text not null,
                checksum text not null,
                applied_at timestamptz not null default now()
            )
            """
        )
        done = dict(conn.execute("select version, checksum from raw.schema_migrations").fetchall())
        for migration in available():
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise RuntimeError(
                        f"migration {migration.version}_{migration.name} was changed after it was"
                        " applied; add a new migration instead"
                    )
                continue
            conn.execute(migration.sql)
            conn.execute(
                "insert into raw.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                [migration.version, migration.name, migration.checksum],
            )
            applied_now.append(migration)
        # the application roles and their grants, on every run: new tables get theirs
        ensure_roles(conn)
    return applied_now
