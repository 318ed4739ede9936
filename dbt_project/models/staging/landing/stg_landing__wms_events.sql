{# One select, no CTE: Postgres merges a view without WITH into the query that reads it, so a
   max(ingest_seq) through it is one probe of the landing table's primary key. #}

select
    -- identifiers
    ingest_seq,
    event_id,
    event_type,
    sku_id,
    location_id,
    reference_id,
    -- quantities, in the SKU's base unit
    qty_delta * uom_factor as qty_base,
    case
        when event_type in ('hold', 'release') then 'held'
        when event_type in ('reserve', 'unreserve') then 'reserved'
        else 'on_hand'
    end as bucket,
    -- receipts carry a cost per unit of their own uom: qty * cost is the same in any unit
    case when event_type = 'receipt' then qty_delta * unit_cost end as receipt_value,
    case when event_type = 'receipt' then qty_delta * uom_factor end as receipt_qty_base,
    -- as received
    qty_delta,
    uom,
    uom_factor,
    unit_cost,
    -- timestamps
    event_ts,
    received_at
from {{ source('landing', 'wms_events') }}
