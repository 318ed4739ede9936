"""Which database to use and how to reach it: `INVENTORY_DATABASE_URL`, else the embedded server.

Every process connects as the role its job needs (db/roles.py): the platform's processes as
inventory_transform by default, the ingest commands as inventory_ingest, and only `inventory db`
(start, migrate, url) as the superuser. With INVENTORY_DATABASE_URL the URL's user is used as it
is, whatever the role asked for: that server's roles are its administrator's to hand out.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from dagster_project.core.db import roles
from dagster_project.core.db.locks import MIGRATION_LOCK
from dagster_project.core.db.migrate import migrate
from dagster_project.core.db.roles import SUPERUSER, TRANSFORM
from dagster_project.core.db.server import EmbeddedServer, ServerError
from dagster_project.core.settings import DATABASE_NAME, Settings


def database_url(settings: Settings, role: str = TRANSFORM) -> str:
    """The URL of the platform database for `role`; the embedded server must have been started
    once (and, for an application role, `inventory db start` run since the roles came in)."""
    if settings.database_url:
        return settings.database_url
    info = EmbeddedServer(settings).info()
    if info is None:
        raise ServerError("the embedded database has not been started: run `inventory db start`")
    if role == SUPERUSER:
        return info.url()
    if role not in roles.APP_ROLES:
        raise ServerError(f"no role {role}: one of {', '.join([SUPERUSER, *roles.APP_ROLES])}")
    return info.url(role=role, password=roles.role_password(settings.state_dir, role))


def connect(settings: Settings, role: str = TRANSFORM) -> psycopg.Connection:
    """An autocommit connection as `role`: each batch opens its own transaction."""
    try:
        return psycopg.connect(
            database_url(settings, role), autocommit=True, application_name="inventory"
        )
    except psycopg.OperationalError as exc:
        if settings.uses_embedded and role != SUPERUSER and "authentication failed" in str(exc):
            raise psycopg.OperationalError(
                f"{exc}\nhint: the role {role} is created by `inventory db start`: run it once"
            ) from exc
        raise


def ensure_database(settings: Settings) -> str:
    """Start the embedded server if that is the default, create the database, apply migrations
    and create the roles (as the superuser: administration); return the superuser's URL."""
    if settings.uses_embedded:
        info = EmbeddedServer(settings).start()
        _create_database(info.url(database="postgres"), DATABASE_NAME)
    url = database_url(settings, SUPERUSER)
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
        if settings.uses_embedded:
            # one starter at a time: catalog rows updated concurrently fail the second writer
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
                for role in roles.APP_ROLES:
                    roles.set_login(conn, role, roles.role_password(settings.state_dir, role))
                roles.lock_down_server(conn, (DATABASE_NAME,))
    if settings.uses_embedded:
        # erp_reader exists once the server has started; the ERP's tables, its reader and its
        # writer's grants are made here too (erp/database.py)
        from dagster_project.core.erp.database import ensure_erp

        ensure_erp(settings)
    return url


def _create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
