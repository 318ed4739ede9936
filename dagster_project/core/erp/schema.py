"""The `erp` schema as the sink writes it; its tables are created by the ERP's migrations
(erp/migrations/*.sql), applied by `ensure_erp`."""

from __future__ import annotations

# The columns of erp.inventory_health_live after its key: marts.inventory_health's, in the mart's
# order, with STOCKOUT_COLUMNS from marts.stockout_frequency_30d before as_of. A fixed list, not
# the marts' columns from the manifest: the ERP's table is an interface of its own, changed only
# by its migrations.
HEALTH_COLUMNS = (
    "on_hand_qty",
    "available_qty",
    "demand_rate_per_day",
    "demand_std_per_day",
    "lead_time_days",
    "lead_time_std_days",
    "lead_time_source",
    "service_level",
    "safety_stock",
    "reorder_point",
    "days_of_cover",
    "max_days_of_cover",
    "inventory_status",
    "stockouts_30d",
    "in_stock_pct_30d",
    "as_of",
)

# The columns that come from marts.stockout_frequency_30d (joined by sku_id, location_id).
STOCKOUT_COLUMNS = ("stockouts_30d", "in_stock_pct_30d")
