"""A state folder and database left by the version before the roles: the next `inventory db start`
closes the folder and its secrets, admits plain dbt as inventory_transform, hands the dbt
schemas and the ERP feed to the role that writes them, and records the ERP's tables, made by DDL
at every start back then, as its first migration."""

from __future__ import annotations

import json
import shutil
import stat

import psycopg

from dagster_project.core.db.migrate import ERP, available
from tests.conftest import run_cli

OLD_PEER_RULE = "local all postgres peer map=realtime_inventory"


def test_the_next_start_tightens_what_an_older_version_left(state_root):
    # a short path: under pytest's tmp_path (deeper on CI, with xdist) the socket's path passes
    # the 107-byte limit, the server goes without one, and there is no peer rule to tighten
    home = state_root / "upgrade"
    env = {"INVENTORY_HOME": str(home)}
    assert run_cli("db", "start", env=env).returncode == 0
    try:
        server = json.loads((home / "server.json").read_text())
        admin = f"postgresql://postgres:{server['password']}@127.0.0.1:{server['port']}"
        # what the older version left: world-readable folder and secrets, the superuser's peer
        # rule alone, dbt schemas and the ERP feed owned by the superuser, no ERP migrations
        home.chmod(0o755)
        (home / "server.json").chmod(0o644)
        (home / "inventory_transform.password").chmod(0o644)
        hba = home / "pgdata" / "pg_hba.conf"
        lines = hba.read_text().splitlines()
        kept = [line for line in lines if "map=realtime_inventory" not in line]
        hba.write_text("\n".join([OLD_PEER_RULE, *kept]) + "\n")
        with psycopg.connect(f"{admin}/inventory", autocommit=True) as conn:
            conn.execute("alter event trigger hand_over_dbt_objects disable")
            conn.execute("create schema marts")
            conn.execute("create table marts.old_mart (x int)")
            conn.execute("alter event trigger hand_over_dbt_objects enable")
        with psycopg.connect(f"{admin}/erp", autocommit=True) as conn:
            conn.execute("drop table erp.schema_migrations")
            conn.execute("alter schema erp owner to postgres")
            conn.execute("alter table erp.sink_progress owner to postgres")
            conn.execute("insert into erp.sink_progress (ingest_seq) values (7)")

        again = run_cli("db", "start", env=env)

        assert again.returncode == 0, again.stderr.decode()
        assert stat.S_IMODE(home.stat().st_mode) & 0o067 == 0
        for secret in ("server.json", "inventory_transform.password"):
            assert stat.S_IMODE((home / secret).stat().st_mode) == 0o600, secret
        assert "local all inventory_transform,postgres peer map=realtime_inventory" in (
            hba.read_text().splitlines()
        )
        assert OLD_PEER_RULE not in hba.read_text().splitlines()
        with psycopg.connect(f"{admin}/inventory") as conn:
            owners = conn.execute(
                "select nspowner::regrole::text, (select relowner::regrole::text from pg_class"
                " where oid = 'marts.old_mart'::regclass) from pg_namespace"
                " where nspname = 'marts'"
            ).fetchone()
        assert owners == ("inventory_transform", "inventory_transform")
        with psycopg.connect(f"{admin}/erp") as conn:
            owners = conn.execute(
                "select nspowner::regrole::text, (select relowner::regrole::text from pg_class"
                " where oid = 'erp.sink_progress'::regclass) from pg_namespace"
                " where nspname = 'erp'"
            ).fetchone()
            versions = conn.execute("select version from erp.schema_migrations").fetchall()
            kept = conn.execute("select ingest_seq from erp.sink_progress").fetchall()
        assert owners == ("inventory_transform", "inventory_transform")
        assert [v for (v,) in versions] == [m.version for m in available(ERP)]
        assert kept == [(7,)]
        # the running server took the new peer rule: the socket admits inventory_transform
        with psycopg.connect(
            host=str(home / "socket"), port=server["port"], dbname="inventory",
            user="inventory_transform",
        ) as conn:  # fmt: skip
            assert conn.execute("select current_user").fetchone() == ("inventory_transform",)
    finally:
        run_cli("db", "stop", env=env)
        shutil.rmtree(home, ignore_errors=True)
