"""New reference data (SKU master, parameters, units) refreshes the marts that read it."""

from __future__ import annotations

import dagster as dg

from dagster_project.core.db import connect
from dagster_project.core.settings import get_settings

# Health is stored per pair at refresh time; new parameters change every pair's policy.
reference_refresh_job = dg.define_asset_job(
    "reference_refresh_job",
    selection=dg.AssetSelection.assets(
        ["intermediate", "int_inventory_health_stored"],
        ["intermediate", "int_inventory_health"],
        ["marts", "inventory_health"],
        ["marts", "reorder_alerts"],
    ),
    description="Recompute health and alerts after sku_params, skus or uom_conversions changed.",
)

LATEST_LOAD = """
select greatest(
    (select max(loaded_at) from raw.skus),
    (select max(loaded_at) from raw.sku_params),
    (select max(loaded_at) from raw.uom_conversions)
)
"""


@dg.sensor(
    job=reference_refresh_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a health refresh when reference data is loaded.",
)
def reference_data_sensor(context: dg.SensorEvaluationContext):
    with connect(get_settings()) as conn:
        loaded_at = conn.execute(LATEST_LOAD).fetchone()[0]
    if loaded_at is None:
        return dg.SkipReason("no reference data loaded yet")
    stamp = loaded_at.isoformat()
    if stamp == context.cursor:
        return dg.SkipReason(f"no reference data loaded since {stamp}")
    context.update_cursor(stamp)
    return dg.RunRequest(run_key=f"reference-{stamp}", tags={"reference_loaded_at": stamp})
