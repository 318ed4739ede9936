"""Where the ERP database is and who may read it: `ERP_DATABASE_URL`, else a database `erp` beside
the inventory database; `ensure_erp` creates it, its tables and the least-privilege `erp_reader`.

The reader sees the erp tables and nothing of the inventory. When both databases share a server
(the default), the inventory database refuses its connections: CONNECT is revoked from PUBLIC
there and granted to no one, so only the superuser and the owner get in, which keeps the reader
out of the landing, staging, intermediate and marts schemas. On a separate ERP server the reader
does not exist where the inventory is.
"""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from dagster_project.db import database_url
from dagster_project.db.server import EmbeddedServer, ServerError
from dagster_project.erp.schema import SCHEMA_DDL
from dagster_project.settings import Settings

ERP_DATABASE = "erp"
READER_ROLE = "erp_reader"
LOCK_KEY = 7_300_101  # ensure_erp; the sink's lock is LOCK_KEY + 1
READER_PASSWORD_FILE = "erp_reader.password"


class ErpSettings(BaseSettings):
    """The ERP side's own environment, apart from Settings (which is `INVENTORY_*`)."""

    model_config = SettingsConfigDict(env_prefix="ERP_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="an existing ERP Postgres; unset = database erp beside inventory"
    )
    reader_password: str | None = Field(
        default=None, description="password of erp_reader; unset = generated once, kept 0600"
    )


def erp_url(settings: Settings) -> str:
    """The URL the sink writes with: ERP_DATABASE_URL, else the inventory server's `erp`."""
    external = ErpSettings().database_url
    if external:
        return external
    return _with_database(_inventory_server_url(settings), ERP_DATABASE)


def connect_erp(settings: Settings) -> psycopg.Connection:
    """An autocommit connection to the ERP database: each sync opens its own transaction."""
    return psycopg.connect(erp_url(settings), autocommit=True, application_name="inventory-erp")


def ensure_erp(settings: Settings) -> str:
    """Create the ERP database (when it is ours), its tables and the reader; safe to re-run and
    to run concurrently. Return the ERP URL."""
    if not ErpSettings().database_url:
        _create_database(_inventory_server_url(settings), ERP_DATABASE)
    url = erp_url(settings)
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", [LOCK_KEY])
        conn.execute(SCHEMA_DDL)
        _grant_reader(conn, reader_password(settings))
    inventory = database_url(settings)
    if _same_server(url, inventory):
        # erp_reader is a role of the inventory's server too. An ERP on a server of its own
        # leaves the inventory untouched: no reader there, and other roles (Materialize's
        # replication user) may rely on PUBLIC's CONNECT.
        with psycopg.connect(inventory, autocommit=True) as conn:
            conn.execute(
                sql.SQL("revoke connect on database {} from public").format(
                    sql.Identifier(conn.info.dbname)
                )
            )
    return url


def reader_password(settings: Settings) -> str:
    """ERP_READER_PASSWORD, else a password generated at first use and kept in the state folder."""
    given = ErpSettings().reader_password
    if given:
        return given
    path = settings.state_dir / READER_PASSWORD_FILE
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two first callers one writes, the other reads what it wrote
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(16) + "\n")
    return path.read_text().strip()


def reader_url(settings: Settings) -> str:
    """The URL the ERP reads with: the ERP database as `erp_reader`."""
    parts = urlsplit(erp_url(settings))
    host = parts.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{READER_ROLE}:{quote(reader_password(settings), safe='')}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _grant_reader(conn: psycopg.Connection, password: str) -> None:
    conn.execute(
        """
        do $$
        begin
            if not exists (select from pg_roles where rolname = 'erp_reader') then
                create role erp_reader;
            end if;
        end
        $$
        """
    )
    conn.execute(
        sql.SQL(
            "alter role erp_reader login nosuperuser nocreatedb nocreaterole noinherit password {}"
        ).format(sql.Literal(password))
    )
    database = sql.Identifier(conn.info.dbname)
    for statement in (
        "revoke all on database {db} from public",
        "grant connect on database {db} to erp_reader",
        "revoke create on schema public from public",
        "grant usage on schema erp to erp_reader",
        "grant select on all tables in schema erp to erp_reader",
        # tables added to the schema later are readable too, and only readable
        "alter default privileges in schema erp grant select on tables to erp_reader",
    ):
        conn.execute(sql.SQL(statement).format(db=database))


def _inventory_server_url(settings: Settings) -> str:
    """A URL with the right to create databases on the inventory's server."""
    if settings.uses_embedded:
        info = EmbeddedServer(settings).info()
        if info is None:
            raise ServerError(
                "the embedded database has not been started: run `inventory db start`"
            )
        return info.url("postgres")
    return database_url(settings)


def _same_server(a: str, b: str) -> bool:
    def server(url: str) -> tuple:
        parts = urlsplit(url)
        return (parts.hostname or "localhost", parts.port or 5432)

    return server(a) == server(b)


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone()
        if not exists:
            # a concurrent ensure_erp may create it first
            with suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
