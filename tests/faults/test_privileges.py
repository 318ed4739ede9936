"""Never silently wrong: who may write what, on a real embedded server, with real roles and real
connections. Events and reconciliation decisions cannot be changed by any application role, a
forged decision is refused (and the real approval still goes through), the ERP's reader reaches
its database only, and the state folder's secrets are private from their first byte."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from dagster_project.core.db import connect, database_url
from dagster_project.core.db.roles import ERP_READER, INGEST, SUPERUSER, TRANSFORM
from dagster_project.core.erp import erp_url, reader_url
from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory.refresh import dbt_env
from dagster_project.core.reconciliation import AUTO, ReconcileError, approve, reconcile
from tests.conftest import ROOT
from tests.reconciliation.conftest import T, counts, decisions, events, recon, skus  # noqa: F401

APP_ROLES = (INGEST, TRANSFORM)
EVENT_TABLES = ("raw.wms_events", "raw.mes_events", "raw.order_lines", "raw.physical_counts")
CHANGES = ("update {} set received_at = now()", "delete from {}", "truncate {}")
Denied = psycopg.errors.InsufficientPrivilege


@pytest.fixture
def as_role(database, settings) -> Iterator[Callable[[str], psycopg.Connection]]:
    """Open autocommit connections as a role, closed after the test."""
    opened: list[psycopg.Connection] = []

    def open_as(role: str) -> psycopg.Connection:
        opened.append(connect(settings, role))
        return opened[-1]

    yield open_as
    for c in opened:
        c.close()


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


# ---- which role each process uses -----------------------------------------------------------


def test_the_platform_connects_as_a_role_that_is_not_the_superuser(database, settings):
    with connect(settings) as conn:
        user, is_super = conn.execute(
            "select current_user, rolsuper from pg_roles where rolname = current_user"
        ).fetchone()
    assert (user, is_super) == (TRANSFORM, False)
    assert dbt_env(settings)["INVENTORY_PG_USER"] == TRANSFORM
    assert urlsplit(erp_url(settings)).username == TRANSFORM
    assert urlsplit(database_url(settings, SUPERUSER)).username == SUPERUSER


def test_the_roles_exist_and_none_is_privileged(conn):
    rows = conn.execute(
        """
        select rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin
        from pg_roles where rolname = any(%s) order by rolname
        """,
        [[ERP_READER, INGEST, TRANSFORM]],
    ).fetchall()
    assert rows == [
        (ERP_READER, False, False, False, False, True),
        (INGEST, False, False, False, False, True),
        (TRANSFORM, False, False, False, False, True),
    ]


# ---- events are appended, never changed ---------------------------------------------------------


@pytest.mark.parametrize("role", APP_ROLES)
@pytest.mark.parametrize("table", EVENT_TABLES)
@pytest.mark.parametrize("change", CHANGES)
def test_no_application_role_changes_an_event(conn, as_role, role, table, change):
    events(conn, ("e1", "receipt", "S1", "L1", 5, T))
    target = as_role(role)

    with pytest.raises(Denied):
        target.execute(change.format(table))
    assert conn.execute("select count(*) from raw.wms_events").fetchone() == (1,)


@pytest.mark.parametrize("role", APP_ROLES)
def test_no_application_role_can_switch_the_triggers_off(database, as_role, role):
    target = as_role(role)
    with pytest.raises(Denied, match="session_replication_role"):
        target.execute("set session_replication_role = replica")
    with pytest.raises(Denied):
        target.execute("alter table reconciliation.decisions disable trigger all")


@pytest.mark.parametrize("mode", ["share", "exclusive", "access exclusive"])
def test_the_ingest_may_not_lock_a_landing_table_above_row_exclusive(conn, as_role, mode):
    ingest = as_role(INGEST)
    with pytest.raises(Denied), ingest.transaction():
        ingest.execute(f"lock table raw.wms_events in {mode} mode")


def test_the_ingest_lands_events_and_quarantines_as_itself(conn, as_role):
    ingest = as_role(INGEST)
    good = {
        "event_id": "e1",
        "event_type": "receipt",
        "sku_id": "S1",
        "location_id": "L1",
        "qty_delta": 5,
        "unit_cost": 1,
        "event_ts": T.isoformat(),
    }
    bad = {**good, "event_id": "e2", "qty_delta": "five"}

    result = ingest_records(ingest, "wms", [good, bad, good], "as the ingest role")
    replay = ingest_records(ingest, "skus", [{"sku_id": "S1", "base_uom": "EA"}], "reference")
    again = ingest_records(ingest, "skus", [{"sku_id": "S1", "base_uom": "KG"}], "reference")

    assert (result.accepted, result.duplicates, result.quarantined) == (1, 1, 1)
    assert (replay.accepted, again.accepted) == (1, 1)  # reference snapshots are upserted
    assert conn.execute("select count(*) from raw.quarantine").fetchone() == (1,)
    assert conn.execute("select base_uom from raw.skus").fetchone() == ("KG",)


def test_the_ingest_resolves_a_replayed_quarantine_but_never_rewrites_what_it_received(
    conn, as_role
):
    from dagster_project.core.ingest import SOURCES, replay_quarantine

    ingest = as_role(INGEST)
    event = {
        "event_id": "e1",
        "event_type": "issue",
        "sku_id": "S1",
        "location_id": "L1",
        "qty_delta": -2,
        "uom": "BOX",
        "event_ts": T.isoformat(),
    }
    skus(ingest, S1="A")
    assert ingest_records(ingest, "wms", [event], "unknown unit").quarantined == 1
    with pytest.raises(Denied):
        ingest.execute("update raw.quarantine set raw_text = 'rewritten'")
    with pytest.raises(Denied):
        ingest.execute("delete from raw.quarantine")
    ingest_records(
        ingest, "uom", [{"sku_id": "S1", "uom": "BOX", "factor_to_base": 12}], "the unit"
    )

    replayed = replay_quarantine(ingest, SOURCES["wms"])

    assert replayed.accepted == 1
    assert conn.execute("select resolution from raw.quarantine").fetchone() == ("accepted",)


def test_the_ingest_reads_nothing_downstream_and_builds_nothing(conn, as_role, settings):
    from dagster_project.core.reconciliation import ensure_views

    with connect(settings) as transform:
        ensure_views(settings, transform)
    ingest = as_role(INGEST)
    with pytest.raises(Denied):
        ingest.execute("select count(*) from marts.count_variances")
    with pytest.raises(Denied):
        ingest.execute("create schema mine")
    with pytest.raises(Denied):
        ingest.execute("select reconciliation.close_decision('K1', 'approved', 'x', 'y', '{}')")
    with pytest.raises(Denied):
        ingest.execute("insert into ops.alerts (kind, subject, message) values ('a', 'b', 'c')")


def test_the_transform_owns_the_dbt_schemas_and_reads_the_landing(conn, as_role, settings):
    from dagster_project.core.reconciliation import ensure_views

    conn.execute("create schema if not exists shadow_made_by_admin")  # as an administrator
    conn.execute("create table shadow_made_by_admin.t (x int)")
    with connect(settings) as transform:
        ensure_views(settings, transform)
        owners = dict(
            transform.execute(
                """
                select nspname, nspowner::regrole::text from pg_namespace
                where nspname in ('staging', 'intermediate', 'marts', 'shadow_made_by_admin')
                """
            ).fetchall()
        )
        transform.execute("drop schema shadow_made_by_admin cascade")  # its own, so it may
        assert transform.execute("select count(*) from raw.wms_events").fetchone() == (0,)

    assert set(owners.values()) == {TRANSFORM}, owners
    assert set(owners) == {"staging", "intermediate", "marts", "shadow_made_by_admin"}


# ---- decisions: append-only, and taken only through the checked functions ----------------------


@pytest.mark.parametrize("role", APP_ROLES)
@pytest.mark.parametrize(
    "statement",
    [
        "insert into reconciliation.decisions (count_id, decision, decided_by, reason, sku_id,"
        " location_id, counted_qty, counted_at, system_qty, variance_qty, tolerance_pct,"
        " auto_approve_limit_pct, is_within_tolerance) values ('K1', 'approved', 'mallory',"
        " 'forged', 'S1', 'L1', 1, now(), 1, 0, 0, 0, true)",
        "update reconciliation.decisions set reason = 'edited'",
        "delete from reconciliation.decisions",
        "truncate reconciliation.decisions",
        "insert into reconciliation.erp_deliveries (through_decision_id, rows_sent) values (1, 1)"
        " returning 1; update reconciliation.erp_deliveries set rows_sent = 0",
    ],
)
def test_no_application_role_writes_the_decision_log(recon, as_role, role, statement):  # noqa: F811
    target = as_role(role)
    with pytest.raises(Denied), target.transaction():
        for part in statement.split("; "):
            target.execute(part)


def pending_k1(recon, settings) -> None:  # noqa: F811
    # S1 class A (1%): book 100, counted 98: 2%, waits for a person
    skus(recon, S1="A")
    events(recon, ("e1", "receipt", "S1", "L1", 100, T - timedelta(days=1)))
    # K2, an hour later, finds 98 too: matched once K1's -2 is approved, not before
    counts(recon, ("K1", "S1", "L1", 98, T), ("K2", "S1", "L1", 98, T + timedelta(hours=1)))
    reconcile(settings)
    assert decisions(recon) == [("K1", "pending", AUTO, None)]


def close(conn, count_id, decision, by="mallory", reason="forged", figures=None):
    return conn.execute(
        "select reconciliation.close_decision(%s, %s, %s, %s, coalesce(%s::jsonb,"
        " (select to_jsonb(v) from marts.count_variances as v where v.count_id = %s)))",
        [count_id, decision, by, reason, figures and json.dumps(figures), count_id],
    ).fetchone()[0]


def opening(recon, count_id: str, **changes) -> dict:  # noqa: F811
    """An opening decision on `count_id` as JSON, its figures read from the mart."""
    row = (
        recon.cursor(row_factory=psycopg.rows.dict_row)
        .execute(
            """
            select count_id, 'auto' as decided_by, 'forged' as reason, sku_id, location_id,
                abc_class, counted_qty::text, counted_at, system_qty::text, variance_qty::text,
                variance_pct::text, tolerance_pct::text, auto_approve_limit_pct::text,
                is_within_tolerance
            from marts.count_variances where count_id = %s
            """,
            [count_id],
        )
        .fetchone()
    )
    return {**row, "counted_at": row["counted_at"].isoformat(), **changes}


def open_(conn, *rows: dict):
    return conn.execute("select reconciliation.open_decisions(%s::jsonb)", [json.dumps(list(rows))])


def test_a_forged_decision_is_refused_and_the_real_approval_goes_through(
    recon,  # noqa: F811
    as_role,
    settings,
):
    pending_k1(recon, settings)
    transform = as_role(TRANSFORM)
    refused = psycopg.errors.CheckViolation

    # an approval of a count nobody queued, of one still undecided, an 'auto' approval, an
    # approval with figures not the count's, a decision that is no closing one
    with pytest.raises(refused, match="not pending"):
        close(transform, "K-none", "approved")
    with pytest.raises(refused, match="not pending"):
        close(transform, "K2", "approved")
    with pytest.raises(refused, match="auto is the reconciliation"):
        close(transform, "K1", "approved", by="auto")
    with pytest.raises(refused, match="needs who and why"):
        close(transform, "K1", "approved", reason=" ")
    with pytest.raises(refused, match="not a closing decision"):
        close(transform, "K1", "matched")
    with pytest.raises(refused, match="not this count"):
        close(transform, "K1", "approved", figures={"count_id": "K1", "system_qty": 0})
    # openings that contradict their figures, or jump the queue of the pair
    with pytest.raises(refused, match="not an opening decision"):
        open_(transform, opening(recon, "K2", decision="approved"))
    with pytest.raises(refused, match="outside the auto-approve limit"):
        open_(
            transform,
            opening(
                recon,
                "K2",
                decision="auto_approved",
                adjustment_event_id="count-adjust:K2",
                adjustment_qty=opening(recon, "K2")["variance_qty"],
            ),
        )
    with pytest.raises(refused, match="matched is for a variance of 0"):
        open_(transform, opening(recon, "K2", decision="matched"))
    with pytest.raises(refused, match="earlier count K1 of its pair is not settled"):
        open_(transform, opening(recon, "K2", decision="pending"))
    with pytest.raises(refused, match="figures differ"):
        open_(transform, opening(recon, "K2", decision="pending", counted_qty="1000"))
    # nothing of that was recorded, and a person still approves K1
    assert decisions(recon) == [("K1", "pending", AUTO, None)]
    with pytest.raises(ReconcileError, match="needs who"):
        approve(settings, "K1", "", "")

    closed = approve(settings, "K1", "ana", "recounted twice")

    assert (closed.decision, closed.decided_by, closed.adjustment_qty) == ("approved", "ana", -2)
    # then K2 is decided in its turn, and K1 cannot be closed again
    reconcile(settings)
    assert [d[:2] for d in decisions(recon)] == [
        ("K1", "pending"),
        ("K1", "approved"),
        ("K2", "matched"),
    ]
    with pytest.raises(ReconcileError, match="not pending"):
        approve(settings, "K1", "ana", "again")
    with pytest.raises(refused, match="not pending"):
        close(transform, "K1", "rejected")


# ---- the ERP's reader reaches its database only -------------------------------------------------


@pytest.mark.parametrize("database_name", ["postgres", "template1", "inventory"])
def test_the_erp_reader_connects_to_no_other_database(erp, settings, database_name):
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(with_database(reader_url(settings), database_name))
    with psycopg.connect(reader_url(settings)) as reader:
        assert reader.execute("select current_database()").fetchone() == ("erp",)


def test_public_connects_nowhere_and_the_roles_where_they_work(erp, conn):
    granted = {
        (db, role): conn.execute(
            "select has_database_privilege(%s, %s, 'connect')", [role, db]
        ).fetchone()[0]
        for db in ("postgres", "template1", "inventory", "erp")
        for role in (ERP_READER, INGEST, TRANSFORM)
    }
    assert {k for k, v in granted.items() if v} == {
        ("inventory", INGEST),
        ("inventory", TRANSFORM),
        ("erp", TRANSFORM),
        ("erp", ERP_READER),
    }
    public = conn.execute(
        "select datname from pg_database,"
        " aclexplode(coalesce(datacl, acldefault('d', datdba))) as a"
        " where a.grantee = 0 and a.privilege_type = 'CONNECT' and datallowconn"
    ).fetchall()
    assert public == []


# ---- the state folder: private from the first byte ----------------------------------------------


def exposed(home: Path) -> list[str]:
    """Paths in `home` that another OS user could read, list or write (the state folder may give
    its group the traverse bit: under root the server runs as its own OS user)."""
    found = []
    for folder, dirs, files in os.walk(home):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(info.st_mode) or stat.S_ISSOCK(info.st_mode):
                continue
            if stat.S_IMODE(info.st_mode) & 0o077:
                found.append(f"{path.relative_to(home)} {stat.S_IMODE(info.st_mode):o}")
    mode = stat.S_IMODE(home.stat().st_mode)
    if mode & 0o067:
        found.append(f". {mode:o}")
    return found


def test_the_state_folder_is_private_during_and_after_the_first_start(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "INVENTORY_HOME": str(home)}
    env.pop("INVENTORY_DATABASE_URL", None)
    env.pop("ERP_DATABASE_URL", None)
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if home.exists():
                seen.extend(exposed(home))
            done.wait(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        started = subprocess.run(
            [sys.executable, "-m", "dagster_project.cli", "db", "start"],
            env=env,
            capture_output=True,
            timeout=300,
            cwd=ROOT,
        )
    finally:
        done.set()
        watcher.join()
    try:
        assert started.returncode == 0, started.stderr.decode()
        assert sorted(set(seen)) == []
        assert exposed(home) == []
        for secret in ("server.json", f"{INGEST}.password", f"{TRANSFORM}.password"):
            assert stat.S_IMODE((home / secret).stat().st_mode) == 0o600, secret
        assert stat.S_IMODE((home / f"{ERP_READER}.password").stat().st_mode) == 0o600
        assert stat.S_IMODE((home / "pgdata").stat().st_mode) == 0o700
        assert stat.S_IMODE((home / "pgdata" / "server.log").stat().st_mode) & 0o077 == 0
        # and the roles are there once `inventory db start` has run
        password = json.loads((home / "server.json").read_text())["password"]
        port = json.loads((home / "server.json").read_text())["port"]
        admin = f"postgresql://postgres:{password}@127.0.0.1:{port}/inventory"
        with psycopg.connect(admin) as conn:
            names = conn.execute(
                "select rolname from pg_roles where rolname = any(%s) order by 1",
                [[ERP_READER, INGEST, TRANSFORM]],
            ).fetchall()
        assert names == [(ERP_READER,), (INGEST,), (TRANSFORM,)]
    finally:
        subprocess.run(
            [sys.executable, "-m", "dagster_project.cli", "db", "stop"],
            env=env,
            capture_output=True,
            timeout=120,
            cwd=ROOT,
        )
