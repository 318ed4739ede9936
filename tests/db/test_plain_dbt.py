"""An analytics engineer's `cd dbt_project && dbt build`: no exports, no password, no setup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

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
