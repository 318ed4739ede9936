"""The dbt CLI resource, under the key `dbt`."""

import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.defs.inventory.project import inventory_dbt_project


def _dbt_executable() -> str:
    """The dbt beside this interpreter: a venv's bin folder need not be on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else shutil.which("dbt") or "dbt"


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "dbt": DbtCliResource(
                project_dir=inventory_dbt_project(), dbt_executable=_dbt_executable()
            )
        }
    )
