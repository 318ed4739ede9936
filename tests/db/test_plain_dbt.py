"""An analytics engineer's `cd dbt_project && dbt build`: no exports, no password, no setup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

from dagster_project.core.db import connect
from dagster_project.core.db.roles import INGEST
from dagster_project.core.ingest import InputFile, ingest_file
from dagster_project.core.settings import Settings
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow(190)  # seconds in a full run: the longest files start first

DBT = Path(sys.executable).parent / "dbt"
DBT_PROJECT = ROOT / "dbt_project"


@pytest.fixture(scope="module")
def plain_env(state_root):
    """A server of its own, started by `inventory db start`, and a shell environment with none
    of the variables `inventory` sets for dbt. INVENTORY_HOME is relative, as a user may set it
    in the repository root, so the profile has to find the root from the directory dbt runs in.
    """
    home = state_root / "plain-dbt"
    started = run_cli("db", "start", env={"INVENTORY_HOME": str(home)})
    assert started.returncode == 0, started.stderr.decode()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INVENTORY_", "DBT_", "PG")) and k != "ERP_DATABASE_URL"
    }
    env.update(
        INVENTORY_HOME=str(home.relative_to(ROOT)), PWD=str(DBT_PROJECT), DBT_USE_COLORS="false"
    )
    yield env
    run_cli("db", "stop", env={"INVENTORY_HOME": str(home)})


def dbt(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DBT), *args], cwd=DBT_PROJECT, env=env, capture_output=True, text=True, timeout=600
    )


def test_dbt_build_in_dbt_project_needs_no_setup(plain_env):
    # a database where the models were never built: dbt builds each model after its unit tests
    built = dbt("build", env=plain_env)

    assert built.returncode == 0, built.stdout[-3000:]
    assert "ERROR=0" in built.stdout and "SKIP=0" in built.stdout


def test_the_socket_is_found_from_the_repository_root_too(plain_env):
    env = {**plain_env, "PWD": str(ROOT)}
    done = subprocess.run(
        [str(DBT), "debug", "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout[-3000:]
    assert "Connection test: [OK connection ok]" in done.stdout


def test_without_a_server_dbt_says_where_it_looked(plain_env, state_root):
    env = {**plain_env, "INVENTORY_HOME": str(state_root / "no-server-here")}

    done = dbt("debug", env=env)

    assert done.returncode != 0
    assert str(state_root / "no-server-here" / "socket") in done.stdout


def test_plain_dbt_connects_as_the_transform_role_not_the_superuser(plain_env):
    shown = dbt(
        "show",
        "--inline",
        "select current_user as who, (select rolsuper from pg_roles"
        " where rolname = current_user) as is_super",
        env=plain_env,
    )

    assert shown.returncode == 0, shown.stdout[-3000:]
    assert "inventory_transform" in shown.stdout and "False" in shown.stdout


# the marts whose figures are as of the clock (inventory_position is as of the read)
CLOCK_MARTS = ("wip_position", "demand_velocity_7d", "inventory_health", "inventory_turns_30d")


def _events(plain_env: dict[str, str], folder: Path) -> None:
    """A receipt and an issue, a started and completed order, completed demand (ingested in this
    process: how events land is not what this file is about)."""
    settings = Settings(home=ROOT / plain_env["INVENTORY_HOME"])
    feeds = {
        "wms": [
            {"event_id": "W1", "event_type": "receipt", "sku_id": "S1", "location_id": "L1",
             "qty_delta": 50, "unit_cost": 2, "event_ts": "2026-11-01T08:00:00Z"},
            {"event_id": "W2", "event_type": "issue", "sku_id": "S1", "location_id": "L1",
             "qty_delta": -5, "event_ts": "2026-11-03T08:00:00Z"},
        ],
        "mes": [
            {"event_id": "M1", "order_id": "P1", "sku_id": "S1", "work_center_id": "WC1",
             "event_type": "start", "qty": 10, "event_ts": "2026-11-02T08:00:00Z"},
        ],
        "orders": [
            {"order_id": "O1", "line_id": "1", "sku_id": "S1", "location_id": "L1",
             "quantity": 3, "status": "completed", "order_ts": "2026-11-03T09:00:00Z"},
        ],
    }  # fmt: skip
    with connect(settings, INGEST) as conn:
        for source, records in feeds.items():
            path = folder / f"{source}.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in records))
            done = ingest_file(conn, source, InputFile.from_arg(str(path)))
            assert done.accepted == len(records), done


def _instants(plain_env: dict[str, str]) -> dict[str, set[str]]:
    settings = Settings(home=ROOT / plain_env["INVENTORY_HOME"])
    with connect(settings) as conn:
        return {
            mart: {
                r[0].astimezone(UTC).isoformat()
                for r in conn.execute(f"select as_of from marts.{mart}")
            }
            for mart in CLOCK_MARTS
        }


def test_dbt_run_of_one_model_leaves_every_other_marts_instant_alone(plain_env, tmp_path):
    _events(plain_env, tmp_path)
    at, later = "2026-11-05T00:00:00+00:00", "2026-11-06T00:00:00+00:00"
    # a target folder per set of vars: dbt parses the whole project again when the vars differ
    # from those of the parse its target folder keeps (the runs without vars share the default)
    at_target = ("--target-path", str(tmp_path / "at"))
    later_target = ("--target-path", str(tmp_path / "later"))
    built = dbt("run", *at_target, "--vars", json.dumps({"as_of": at}), env=plain_env)
    assert built.returncode == 0, built.stdout[-3000:]
    assert _instants(plain_env) == {mart: {at} for mart in CLOCK_MARTS}

    # a selection runs at the clock's instant and leaves it: a view, and a state model
    one = dbt("run", "-s", "wip_position", "int_demand_velocity", env=plain_env)
    assert one.returncode == 0, one.stdout[-3000:]
    assert _instants(plain_env) == {mart: {at} for mart in CLOCK_MARTS}

    # a selection asked for another instant would mix two: it fails and says why
    mixed = dbt("run", "-s", "int_demand_velocity", *later_target,
                "--vars", json.dumps({"as_of": later}), env=plain_env)  # fmt: skip
    assert mixed.returncode != 0
    assert "would mix instants" in mixed.stdout and "builds 1 of the" in mixed.stdout
    assert _instants(plain_env) == {mart: {at} for mart in CLOCK_MARTS}

    # every state model at a new instant moves the clock; the views (built with as_of given
    # above, not re-created here) follow it
    moved = dbt("run", "--exclude", "config.materialized:view", *later_target, "--vars",
                json.dumps({"as_of": later}), env=plain_env)  # fmt: skip
    assert moved.returncode == 0, moved.stdout[-3000:]
    assert _instants(plain_env) == {mart: {later} for mart in CLOCK_MARTS}
