"""dbt wired once for Dagster: the project, its manifest, and the layer each model belongs to."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from dagster_dbt import DagsterDbtTranslator, DbtProject

from dagster_project.core.db.server import ServerError
from dagster_project.core.inventory.refresh import (
    DBT_PROJECT_DIR,
    DbtError,
    dbt_env,
    dbt_paths,
    project_stamp,
)
from dagster_project.core.settings import Settings, get_settings


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What the profile reads; without a started server, parsing still works on the defaults."""
    try:
        return dbt_env(settings)
    except ServerError:
        return dbt_paths(settings)


def ensure_manifest(project: DbtProject, settings: Settings) -> None:
    """Parse the project when its manifest is missing or older than a model, macro or test.

    Dagster builds the asset graph from the manifest at load time; parsing in this process takes
    a few seconds once and is skipped while nothing changed.
    """
    manifest = project.manifest_path
    if manifest.exists() and manifest.stat().st_mtime >= project_stamp():
        return
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_environment(settings))
    result = dbtRunner().invoke(["parse", "--project-dir", str(DBT_PROJECT_DIR), "--quiet"])
    if not result.success:
        raise DbtError(f"dbt parse failed: {result.exception}")


@cache
def inventory_dbt_project() -> DbtProject:
    settings = get_settings()
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        target_path=settings.state_dir / "dbt" / "target",
        profiles_dir=DBT_PROJECT_DIR,
    )
    ensure_manifest(project, settings)
    return project


class InventoryDbtTranslator(DagsterDbtTranslator):
    """Models are grouped by their layer folder (staging, intermediate, marts); sources by name."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return dbt_resource_props["source_name"]
        fqn = dbt_resource_props["fqn"]
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)
