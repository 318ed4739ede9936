"""Where the ERP database is and who may read it: `ERP_DATABASE_URL`, else a database `erp` beside
the inventory database; `ensure_erp` creates it, applies its migrations (erp/migrations, by the
runner of db/migrate.py) and creates the least-privilege `erp_reader`.

On the embedded server the sink writes as inventory_transform, which owns the `erp` schema (the
feed is derived from the marts, like everything that role keeps; the worker that syncs it holds
that role's connection to the inventory anyway). Creating the database, the reader and their
grants is administration, done by `inventory db start` as the superuser, or by the first
ensure_erp that finds them missing. The reader sees the erp tables and nothing else: CONNECT on
every other database of the server (inventory, postgres, template1) is revoked from PUBLIC and
granted only to the roles that need it. With ERP_DATABASE_URL or INVENTORY_DATABASE_URL the
URL's user writes, as it is; the reader is created where that user may.
"""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from dagster_project.core.db import database_url, roles
from dagster_project.core.db.locks import ERP_SCHEMA_LOCK
from dagster_project.core.db.migrate import ERP, apply_migrations
from dagster_project.core.db.roles import TRANSFORM
from dagster_project.core.db.server import EmbeddedServer, ServerError
from dagster_project.core.settings import ErpSettings, Settings

ERP_DATABASE = "erp"
READER_ROLE = "erp_reader"
READER_PASSWORD_FILE = "erp_reader.password"


def erp_url(settings: Settings) -> str:
    """The URL the sink writes with: ERP_DATABASE_URL, else the inventory server's `erp`."""
    external = ErpSettings().database_url
    if external:
        return external
    return _with_database(database_url(settings, TRANSFORM), ERP_DATABASE)


def connect_erp(settings: Settings) -> psycopg.Connection:
    """An autocommit connection to the ERP database: each sync opens its own transaction."""
    return psycopg.connect(erp_url(settings), autocommit=True, application_name="inventory-erp")


def ensure_erp(settings: Settings) -> str:
    """Create the ERP database (when it is ours), migrate it and create the reader; safe to
    re-run and to run concurrently. Return the ERP URL."""
    if settings.uses_embedded and not ErpSettings().database_url:
        try:
            _keep_schema(settings)
        except (psycopg.OperationalError, _NotSetUp):
            set_up_erp(settings)
        return erp_url(settings)
    if not ErpSettings().database_url:
        _create_database(_inventory_server_url(settings), ERP_DATABASE)
    url = erp_url(settings)
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", [ERP_SCHEMA_LOCK])
        apply_migrations(conn, ERP)
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


class _NotSetUp(RuntimeError):
    """The ERP database is there but not (yet) owned and readable as it should be."""


def _keep_schema(settings: Settings) -> None:
    """As the writer, which owns the schema: its migrations and the reader's grants."""
    with connect_erp(settings) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", [ERP_SCHEMA_LOCK])
        ready = conn.execute(
            """
            select exists (select from pg_namespace
                           where nspname = 'erp' and nspowner = current_user::regrole)
                and exists (select from pg_roles where rolname = %s)
            """,
            [READER_ROLE],
        ).fetchone()[0]
        if not ready:
            raise _NotSetUp
        apply_migrations(conn, ERP)
        _grant_reader_tables(conn)


def set_up_erp(settings: Settings) -> None:
    """Administration on the embedded server: the ERP database, its reader, the writer's
    ownership of the schema, and CONNECT for those two only."""
    info = EmbeddedServer(settings).info()
    if info is None:
        raise ServerError("the embedded database has not been started: run `inventory db start`")
    _create_database(info.url("postgres"), ERP_DATABASE)
    with psycopg.connect(info.url(ERP_DATABASE), autocommit=True) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", [ERP_SCHEMA_LOCK])
        roles.create_role(conn, TRANSFORM)
        _create_reader(conn, reader_password(settings))
        writer = sql.Identifier(TRANSFORM)
        database = sql.Identifier(ERP_DATABASE)
        conn.execute(sql.SQL("revoke all on database {} from public").format(database))
        conn.execute(
            sql.SQL("grant connect, temporary, create on database {} to {}").format(
                database, writer
            )
        )
        conn.execute(sql.SQL("grant connect on database {} to erp_reader").format(database))
        conn.execute("revoke create on schema public from public")
        conn.execute(sql.SQL("create schema if not exists erp authorization {}").format(writer))
        # an ERP database made by an older version: its objects go to the writer
        conn.execute(sql.SQL("alter schema erp owner to {}").format(writer))
        for kind, name in conn.execute(
            """
            select case c.relkind when 'S' then 'sequence' else 'table' end, c.relname
            from pg_class as c
            where c.relnamespace = 'erp'::regnamespace and c.relkind in ('r', 'p', 'S')
                and c.relowner <> %s::regrole
                and not exists (select from pg_depend as d where d.objid = c.oid
                    and d.deptype in ('a', 'i') and d.classid = 'pg_class'::regclass)
            """,
            [TRANSFORM],
        ).fetchall():
            conn.execute(
                sql.SQL("alter {} erp.{} owner to {}").format(
                    sql.SQL(kind), sql.Identifier(name), writer
                )
            )
        conn.execute(sql.SQL("set local role {}").format(writer))
        apply_migrations(conn, ERP)
        _grant_reader_tables(conn)
    with psycopg.connect(info.url("postgres"), autocommit=True) as conn:
        roles.lock_down_server(conn, (ERP_DATABASE,))


def reader_password(settings: Settings) -> str:
    """ERP_READER_PASSWORD, else a password generated at first use and kept in the state folder."""
    given = ErpSettings().reader_password
    if given:
        return given
    return roles.role_password(settings.state_dir, READER_ROLE)


def reader_url(settings: Settings) -> str:
    """The URL the ERP reads with: the ERP database as `erp_reader`."""
    parts = urlsplit(erp_url(settings))
    host = parts.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{READER_ROLE}:{quote(reader_password(settings), safe='')}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _create_reader(conn: psycopg.Connection, password: str) -> None:
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


def _grant_reader(conn: psycopg.Connection, password: str) -> None:
    """The reader where the URL's user administers the ERP database (ERP_DATABASE_URL or
    INVENTORY_DATABASE_URL)."""
    _create_reader(conn, password)
    database = sql.Identifier(conn.info.dbname)
    for statement in (
        "revoke all on database {db} from public",
        "grant connect on database {db} to erp_reader",
        "revoke create on schema public from public",
    ):
        conn.execute(sql.SQL(statement).format(db=database))
    _grant_reader_tables(conn)


def _grant_reader_tables(conn: psycopg.Connection) -> None:
    """As the owner of the erp schema: the reader selects its tables, and nothing more."""
    for statement in (
        "grant usage on schema erp to erp_reader",
        "grant select on all tables in schema erp to erp_reader",
        # tables added to the schema later are readable too, and only readable
        "alter default privileges in schema erp grant select on tables to erp_reader",
        # the migrations' record is the platform's, not a table of the ERP's
        "revoke all on erp.schema_migrations from erp_reader",
    ):
        conn.execute(statement)


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
