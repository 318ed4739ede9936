"""The dbt models as assets, with the landing tables they read as upstream source assets."""

import json
import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.core.db.locks import refresh_lease
from dagster_project.core.inventory.manifest import dbt_environment
from dagster_project.core.settings import get_settings
from dagster_project.defs.inventory.project import InventoryDbtTranslator, inventory_dbt_project

project = inventory_dbt_project()
translator = InventoryDbtTranslator()


def _landing_specs() -> list[dg.AssetSpec]:
    """One external asset per landing table: `inventory ingest` and `load` write them."""
    manifest = json.loads(project.manifest_path.read_text())
    return [
        dg.AssetSpec(
            key=translator.get_asset_key(source),
            group_name="landing",
            description=source.get("description") or None,
            kinds={"postgres"},
            metadata={"table": f"raw.{source['name']}"},
        )
        for source in manifest["sources"].values()
        if source["source_name"] == "landing"
    ]


landing_tables = _landing_specs()


@dbt_assets(
    manifest=project.manifest_path,
    project=project,
    dagster_dbt_translator=translator,
)
def inventory_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build` of the selected models: the same incremental state the stream worker keeps,
    so the two take turns on one lock instead of both adding the same events. Unit tests check
    the SQL on fixed rows, not the data: the test suite runs them, production runs skip them."""
    settings = get_settings()
    os.environ.update(dbt_environment(settings))
    if not context.selected_asset_keys:
        # only tests (the checks after a refresh): `dbt test` reads; a build would take the
        # lease and move the clock the marts are as of
        yield from dbt.cli(["test", "--exclude", "test_type:unit"], context=context).stream()
        return
    with refresh_lease(settings, f"Dagster run {context.run.run_id}", on_wait=context.log.info):
        yield from dbt.cli(["build", "--exclude", "test_type:unit"], context=context).stream()
