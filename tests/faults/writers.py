"""Plain dbt as an analytics engineer runs it, against the test session's server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_project.core.settings import Settings
from tests.conftest import ROOT

DBT = Path(sys.executable).parent / "dbt"
DBT_PROJECT = ROOT / "dbt_project"


def plain_dbt_env(settings: Settings, scratch: Path) -> dict[str, str]:
    """None of the variables `inventory` sets for dbt: the profile finds the socket itself."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INVENTORY_", "DBT_", "PG")) and k != "ERP_DATABASE_URL"
    }
    env.update(
        INVENTORY_HOME=str(settings.state_dir),
        PWD=str(DBT_PROJECT),
        DBT_USE_COLORS="false",
        DBT_TARGET_PATH=str(scratch / "target"),
        DBT_LOG_PATH=str(scratch / "logs"),
    )
    return env


def start_plain_dbt(settings: Settings, scratch: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(DBT), *args],
        cwd=DBT_PROJECT,
        env=plain_dbt_env(settings, scratch),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
