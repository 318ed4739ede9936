{# One select, no CTE, so Postgres merges the view into its readers (see stg_landing__wms_events):
   int_count_system_qty looks counts up by key inside a per-count lateral join. #}

select
    -- identifiers
    ingest_seq,
    count_id,
    sku_id,
    location_id,
    -- the count, in base units
    counted_qty,
    counted_at,
    counted_by,
    -- timestamps
    received_at
from {{ source('landing', 'physical_counts') }}
