"""The `erp` schema as the sink writes it; its tables are created by the ERP's migrations
(erp/migrations/*.sql), applied by `ensure_erp`."""

from __future__ import annotations

# The columns of marts.inventory_health after its key, in the mart's order.
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
    "as_of",
)
