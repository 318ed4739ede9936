{# One select, no CTE: Postgres merges a view without WITH into the query that reads it, so the
   state model's lookups by po_id go straight to the landing table's index. #}

select
    -- identifiers
    ingest_seq,
    po_id,
    line_id,
    supplier_id,
    sku_id,
    location_id,
    -- the order, in base units
    ordered_qty,
    ordered_at,
    promised_at,
    status,
    -- versions
    updated_at,
    received_at,
    -- a version without updated_at counts as received at load time: later than any explicit
    -- one; among those, the later arrival wins
    updated_at is null as is_received_now
from {{ source('landing', 'purchase_orders') }}
