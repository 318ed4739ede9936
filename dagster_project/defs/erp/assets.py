"""The ERP feed as assets: the stream worker keeps them current; a run here syncs them once."""

import dagster as dg

from dagster_project.core.settings import get_settings

REPLENISHMENT_REQUESTS = dg.AssetKey(["erp", "replenishment_requests"])
INVENTORY_HEALTH_LIVE = dg.AssetKey(["erp", "inventory_health_live"])


def _feed_specs() -> list[dg.AssetSpec]:
    # built in a function: a spec at module level would be loaded as an asset of its own
    return [
        dg.AssetSpec(
            key=REPLENISHMENT_REQUESTS,
            deps=[["marts", "reorder_alerts"]],
            group_name="erp",
            kinds={"postgres"},
            description="One request per alert episode of a SKU-location: opened when the pair "
            "enters reorder_alerts, closed when it leaves; never two open for one pair.",
        ),
        dg.AssetSpec(
            key=INVENTORY_HEALTH_LIVE,
            deps=[["marts", "inventory_health"]],
            group_name="erp",
            kinds={"postgres"},
            description="The health rows, upserted by (sku_id, location_id).",
        ),
    ]


stock_adjustments = dg.AssetSpec(
    key=["erp", "stock_adjustments"],
    deps=[["reconciliation", "count_reconciliation"]],
    group_name="erp",
    kinds={"postgres"},
    description="Approved reconciliation adjustments (written by the counts reconciliation).",
)


@dg.multi_asset(specs=_feed_specs())
def erp_feed(context: dg.AssetExecutionContext):
    """One pass of the sink, the same one the stream worker runs on every tick. A blocking check
    that fails on the marts in the same run skips this step, so bad keys never reach the ERP."""
    from dagster_project.core.erp.database import ensure_erp
    from dagster_project.core.erp.sink import sync_once

    settings = get_settings()
    ensure_erp(settings)
    result = sync_once(settings)
    common = {"ingest_seq": result.ingest_seq or 0}
    yield dg.MaterializeResult(
        asset_key=REPLENISHMENT_REQUESTS,
        metadata={**common, "opened": result.opened, "closed": result.closed},
    )
    yield dg.MaterializeResult(
        asset_key=INVENTORY_HEALTH_LIVE,
        metadata={**common, "rows_upserted": result.health_upserted},
    )
