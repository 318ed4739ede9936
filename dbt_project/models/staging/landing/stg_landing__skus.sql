{# One select, no CTE, so Postgres merges the view into its readers (see stg_landing__wms_events). #}

select
    -- identifiers
    sku_id,
    -- attributes
    description,
    base_uom,
    abc_class,
    -- metadata
    loaded_at
from {{ source('landing', 'skus') }}
