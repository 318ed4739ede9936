"""Which database to use and how to reach it: `INVENTORY_DATABASE_URL`, else the embedded server."""

from __future__ import annotations

import psycopg
from psycopg import sql

from dagster_project.db.migrate import migrate
from dagster_project.db.server import EmbeddedServer, ServerError
from dagster_project.settings import DATABASE_NAME, Settings


def database_url(settings: Settings) -> str:
    """The URL of the platform database; the embedded server must have been started once."""
    if settings.database_url:
        return settings.database_url
    info = EmbeddedServer(settings).info()
    if info is None:
        raise ServerError("the embedded database has not been started: run `inventory db start`")
    return info.url()


def connect(settings: Settings) -> psycopg.Connection:
    """An autocommit connection: each batch opens its own transaction."""
    return psycopg.connect(database_url(settings), autocommit=True, application_name="inventory")


def ensure_database(settings: Settings) -> str:
    """Start the embedded server if that is the default, create the database, apply migrations."""
    if settings.uses_embedded:
        info = EmbeddedServer(settings).start()
        _create_database(info.url("postgres"), DATABASE_NAME)
    url = database_url(settings)
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
    return url


def _create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
