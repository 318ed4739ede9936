"""Who may write what: the platform's database roles and their grants.

    postgres (superuser)   `inventory db` administration and migrations, nothing else.
    inventory_ingest       lands input: INSERT into the landing tables and the quarantine, UPDATE
                           only of the batch log, the quarantine's resolution columns (never
                           what was received) and the reference tables (skus, sku_params,
                           uom_conversions are snapshots, upserted). No UPDATE, DELETE or
                           TRUNCATE of an event table, no DELETE or TRUNCATE anywhere.
    inventory_transform    everything downstream of the landing: owns the dbt schemas (staging,
                           intermediate, marts, the nightly validation's shadow_*), keeps ops,
                           takes reconciliation decisions through the checked functions
                           reconciliation.open_decisions and reconciliation.close_decision only,
                           and owns the `erp` feed schema it writes.
                           It is a member of inventory_ingest: the reconciliation posts its
                           adjust events through the ordinary ingest, in the decision's
                           transaction. The stream worker, Dagster and the reconciliation use it.
    erp_reader             the ERP's read-only view of the `erp` database (erp/database.py).

No application role owns a landing or reconciliation table, so none can change an event or a
decision, disable a trigger, or set session_replication_role (superuser only).

Roles are cluster-wide and created here idempotently by whoever migrates with the right to
(a superuser, or CREATEROLE); on the embedded server they get generated passwords kept in the
state folder (0600) and a login. On a server of your own (INVENTORY_DATABASE_URL) they are
created NOLOGIN with their grants; give them a login and a password there if you want the
processes split by role, since every process uses the URL's user as it is.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

SUPERUSER = "postgres"
INGEST = "inventory_ingest"
TRANSFORM = "inventory_transform"
ERP_READER = "erp_reader"
APP_ROLES = (INGEST, TRANSFORM)

# The schemas dbt builds (dbt_project.yml; validation.SHADOW_PREFIX for the nightly shadow copies)
DBT_SCHEMA_PATTERN = r"^(staging|intermediate|marts|shadow_.*)$"

EVENT_TABLES = (
    "raw.wms_events",
    "raw.mes_events",
    "raw.order_lines",
    "raw.purchase_orders",
    "raw.physical_counts",
)
# inserted, and updated where noted, by the ingest
INGEST_INSERTS = (*EVENT_TABLES, "raw.ingest_batches", "raw.quarantine")
INGEST_UPSERTS = ("raw.skus", "raw.sku_params", "raw.uom_conversions")
INGEST_UPDATES = ("raw.ingest_batches", *INGEST_UPSERTS)
# a replay resolves quarantined records; what was received (raw_text, payload, where) stays
QUARANTINE_RESOLUTION = ("replayed_at", "reason", "resolved_at", "resolved_batch_id", "resolution")


def password_file(state_dir: Path, role: str) -> Path:
    return state_dir / f"{role}.password"


def role_password(state_dir: Path, role: str) -> str:
    """The role's password: generated at first use, kept 0600 in the state folder from its first
    byte. O_EXCL: of two first callers one writes, the other reads what it wrote."""
    path = password_file(state_dir, role)
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(16) + "\n")
    return path.read_text().strip()


def can_manage_roles(conn: psycopg.Connection) -> bool:
    return conn.execute(
        "select rolsuper or rolcreaterole from pg_roles where rolname = current_user"
    ).fetchone()[0]


def is_superuser(conn: psycopg.Connection) -> bool:
    return conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]


def create_role(conn: psycopg.Connection, role: str) -> None:
    """Create `role` NOLOGIN unless it exists; a concurrent creator (another database migrating
    at the same time: roles are cluster-wide) is not an error."""
    if conn.execute("select 1 from pg_roles where rolname = %s", [role]).fetchone():
        return
    try:
        with conn.transaction():
            conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    except psycopg.errors.DuplicateObject:
        pass
    except psycopg.errors.UniqueViolation:
        pass


def set_login(conn: psycopg.Connection, role: str, password: str) -> None:
    conn.execute(
        sql.SQL(
            "alter role {} login nosuperuser nocreatedb nocreaterole nobypassrls password {}"
        ).format(sql.Identifier(role), sql.Literal(password))
    )


def ensure_roles(conn: psycopg.Connection) -> bool:
    """Create the application roles and grant what each needs in this database; return whether
    it could (a migrating user that may not create roles leaves them to an administrator)."""
    roles_exist = all(
        conn.execute("select 1 from pg_roles where rolname = %s", [r]).fetchone() for r in APP_ROLES
    )
    if not roles_exist and not can_manage_roles(conn):
        log.warning(
            "%s may not create roles: %s not created; every process uses it as it is",
            conn.info.user,
            ", ".join(APP_ROLES),
        )
        return False
    for role in APP_ROLES:
        create_role(conn, role)
    try:
        # a savepoint: a refused grant must not abort the caller's migration transaction
        with conn.transaction():
            _grant(conn)
    except psycopg.errors.InsufficientPrivilege as exc:
        log.warning("%s may not grant the application roles' rights: %s", conn.info.user, exc)
        return False
    return True


def _grant(conn: psycopg.Connection) -> None:
    db = sql.Identifier(conn.info.dbname)
    ingest, transform = sql.Identifier(INGEST), sql.Identifier(TRANSFORM)

    def run(statement: str, **names: sql.Composable) -> None:
        conn.execute(sql.SQL(statement).format(db=db, ingest=ingest, transform=transform, **names))

    def tables(names: tuple[str, ...]) -> sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(*n.split(".")) for n in names)

    # only the roles named here connect; PUBLIC's temp and connect go
    run("revoke all on database {db} from public")
    run("grant connect, temporary on database {db} to {ingest}, {transform}")
    # dbt creates its schemas (and the nightly validation its shadow_* ones): CREATE on the db
    run("grant create on database {db} to {transform}")
    run("revoke create on schema public from public")
    # the reconciliation posts its adjust events through the ordinary ingest
    run("grant {ingest} to {transform}")

    # the landing: read by both, appended to by the ingest, never changed
    run("grant usage on schema raw to {ingest}, {transform}")
    run("revoke all on all tables in schema raw from {ingest}, {transform}")
    run("grant select on all tables in schema raw to {ingest}, {transform}")
    run("grant insert on {t} to {ingest}", t=tables(INGEST_INSERTS + INGEST_UPSERTS))
    run("grant update on {t} to {ingest}", t=tables(INGEST_UPDATES))
    run(
        "grant update ({c}) on raw.quarantine to {ingest}",
        c=sql.SQL(", ").join(map(sql.Identifier, QUARANTINE_RESOLUTION)),
    )
    run("grant usage, select, update on all sequences in schema raw to {ingest}")
    run("revoke all on raw.schema_migrations from {ingest}, {transform}")

    # operations: the worker's progress, alerts (append-only), sink holds, the refresh lease;
    # dbt keeps its own tables there too (CREATE)
    run("grant usage, create on schema ops to {transform}")
    run(
        "grant select, insert, update, delete on ops.stream_progress, ops.sink_holds to {transform}"
    )
    run("grant select, insert on ops.alerts to {transform}")
    run("grant usage on all sequences in schema ops to {transform}")
    if conn.execute("select to_regclass('ops.refresh_lease') is not null").fetchone()[0]:
        run("grant select, insert, update, delete on ops.refresh_lease to {transform}")

    # reconciliation: the log is read, and written only through the checked functions
    run("grant usage on schema reconciliation to {transform}")
    run("revoke all on all tables in schema reconciliation from {ingest}, {transform}")
    run("grant select on reconciliation.decisions, reconciliation.erp_deliveries to {transform}")
    run("grant insert on reconciliation.erp_deliveries to {transform}")
    run("grant usage on all sequences in schema reconciliation to {transform}")
    if conn.info.server_version >= 170000:
        # ANALYZE between rounds (MAINTAIN changes no rows)
        run("grant maintain on reconciliation.decisions to {transform}")
    run("revoke all on all functions in schema reconciliation from public")
    if conn.execute("select to_regproc('reconciliation.close_decision') is not null").fetchone()[0]:
        run("grant execute on function reconciliation.open_decisions(jsonb) to {transform}")
        run(
            "grant execute on function reconciliation.close_decision(text, text, text, text, jsonb)"
            " to {transform}"
        )

    # the dbt schemas belong to the transform, whoever created them first
    if is_superuser(conn):
        _hand_over_dbt_schemas(conn)
        conn.execute(HAND_OVER_TRIGGER)


def _hand_over_dbt_schemas(conn: psycopg.Connection) -> None:
    """dbt schemas (and what is in them) that another role owns, e.g. built by `postgres` before
    the roles existed: given to inventory_transform."""
    owned = conn.execute(
        """
        select n.nspname from pg_namespace as n
        where n.nspname ~ %s and n.nspowner <> %s::regrole
        """,
        [DBT_SCHEMA_PATTERN, TRANSFORM],
    ).fetchall()
    for (schema,) in owned:
        conn.execute(
            sql.SQL("alter schema {} owner to {}").format(
                sql.Identifier(schema), sql.Identifier(TRANSFORM)
            )
        )
        for kind, name in conn.execute(
            """
            select case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                when 'S' then 'sequence' else 'table' end, c.relname
            from pg_class as c
            where c.relnamespace = %s::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'S')
                and c.relowner <> %s::regrole
                -- identity and serial sequences go with their table
                and not exists (select from pg_depend as d where d.objid = c.oid
                    and d.deptype in ('a', 'i') and d.classid = 'pg_class'::regclass)
            """,
            [schema, TRANSFORM],
        ).fetchall():
            conn.execute(
                sql.SQL("alter {} {}.{} owner to {}").format(
                    sql.SQL(kind),
                    sql.Identifier(schema),
                    sql.Identifier(name),
                    sql.Identifier(TRANSFORM),
                )
            )


# What an administrator (or a test) creates in a dbt schema is given to inventory_transform at
# once: dbt must be able to alter and replace everything there.
HAND_OVER_TRIGGER = f"""
create or replace function ops.hand_over_dbt_objects() returns event_trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    created record;
begin
    if current_user = '{TRANSFORM}' then
        return;
    end if;
    for created in
        select * from pg_event_trigger_ddl_commands()
        where schema_name ~ '{DBT_SCHEMA_PATTERN}' or (
            object_type = 'schema' and object_identity ~ '{DBT_SCHEMA_PATTERN}')
    loop
        if created.object_type = 'schema' then
            execute format('alter schema %s owner to {TRANSFORM}', created.object_identity);
        elsif created.object_type in ('table', 'view', 'materialized view') then
            execute format('alter %s %s owner to {TRANSFORM}',
                created.object_type, created.object_identity);
        end if;
    end loop;
end
$$;
revoke all on function ops.hand_over_dbt_objects() from public;
do $$
begin
    if not exists (select from pg_event_trigger where evtname = 'hand_over_dbt_objects') then
        create event trigger hand_over_dbt_objects on ddl_command_end
            when tag in ('CREATE SCHEMA', 'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO',
                'CREATE VIEW', 'CREATE MATERIALIZED VIEW')
            execute function ops.hand_over_dbt_objects();
    end if;
end
$$;
"""


def lock_down_server(conn: psycopg.Connection, databases: tuple[str, ...]) -> None:
    """On the embedded server (ours): no database takes PUBLIC's connections, the maintenance
    databases included; each is granted to the roles that need it (ensure_roles, ensure_erp)."""
    for name in ("postgres", "template1", *databases):
        # only when PUBLIC still has them: a revoke rewrites the catalog row, and two starters
        # rewriting it at once fail ("tuple concurrently updated")
        if conn.execute(
            """
            select 1 from pg_database where datname = %s
                and (has_database_privilege('public', datname, 'connect')
                    or has_database_privilege('public', datname, 'temporary'))
            """,
            [name],
        ).fetchone():
            conn.execute(
                sql.SQL("revoke connect, temporary on database {} from public").format(
                    sql.Identifier(name)
                )
            )
