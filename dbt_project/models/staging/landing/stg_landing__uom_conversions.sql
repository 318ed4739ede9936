{# One select, no CTE, so Postgres merges the view into its readers (see stg_landing__wms_events). #}

select
    -- identifiers
    sku_id,
    uom,
    -- quantities
    factor_to_base,
    -- metadata
    loaded_at
from {{ source('landing', 'uom_conversions') }}
