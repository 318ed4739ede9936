{# One select, no CTE, so Postgres merges the view into its readers: max(loaded_at) is then one
   probe of the landing table's loaded_at index, as the health reads need on every read. #}

select
    -- identifiers
    sku_id,
    location_id,
    location_id is null as is_all_locations,
    -- parameters; null = the default applies downstream
    lead_time_days,
    lead_time_std_days,
    service_level,
    reorder_point,
    safety_stock,
    order_qty,
    order_multiple,
    min_order_qty,
    review_period_days,
    max_days_of_cover,
    -- metadata
    loaded_at
from {{ source('landing', 'sku_params') }}
