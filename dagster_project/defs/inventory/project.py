"""dbt wired once for Dagster: the project, its manifest, the layer each model belongs to, how
fresh the marts must be and when their tests run."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from dagster_project.core.inventory.manifest import ensure_manifest, load_manifest, manifest_path
from dagster_project.core.inventory.refresh import DBT_PROJECT_DIR
from dagster_project.core.settings import get_settings


@cache
def inventory_dbt_project() -> DbtProject:
    settings = get_settings()
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        target_path=manifest_path(settings).parent,
        profiles_dir=DBT_PROJECT_DIR,
    )
    ensure_manifest(settings)
    return project


# The worker refreshes the marts every few seconds and reports it at most once a minute
# (core/inventory/report.py): three minutes without a report is late, ten is stale. Dagster's
# freshness daemon judges it from the last materialization, the worker's or a run's.
MARTS_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(minutes=10), warn_window=timedelta(minutes=3)
)
# A mart's checks run once per tick after the mart was updated (reported or run): a check run
# costs a minute or more of a busy machine, so not after each of the worker's refreshes. Not
# "unless one is in progress": a run cut short by a hard stop stays STARTED for good (the default
# run launcher cannot see its process die), and would hold the checks back for ever.
CHECKS_CRON = "*/10 * * * *"
checks_after_refresh = dg.AutomationCondition.on_cron(CHECKS_CRON)


class InventoryDbtTranslator(DagsterDbtTranslator):
    """Models are grouped by their layer folder (staging, intermediate, marts); sources by name.
    The marts carry a freshness policy, and every dbt test runs after its model was updated."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return dbt_resource_props["source_name"]
        fqn = dbt_resource_props["fqn"]
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if spec.group_name == "marts":
            spec = spec.replace_attributes(freshness_policy=MARTS_FRESHNESS)
        return spec

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=spec.description,
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
            automation_condition=checks_after_refresh,
        )


def mart_asset_keys() -> list[dg.AssetKey]:
    """The marts' asset keys, as the dbt assets have them: from the manifest, through the
    translator."""
    project = inventory_dbt_project()
    manifest = load_manifest(project.manifest_path)
    translator = InventoryDbtTranslator()
    keys = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] == "model":
            spec = translator.get_asset_spec(manifest, unique_id, project)
            if spec.group_name == "marts":
                keys.append(spec.key)
    return sorted(keys, key=lambda key: key.path)
