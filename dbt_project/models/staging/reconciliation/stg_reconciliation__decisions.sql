{# One select, no CTE, so Postgres merges the view into its readers (see stg_landing__wms_events). #}

select
    -- identifiers
    decision_id,
    count_id,
    sku_id,
    location_id,
    -- the decision
    decision,
    decided_by,
    decided_at,
    reason,
    -- the numbers it was taken on
    abc_class,
    counted_qty,
    counted_at,
    system_qty,
    variance_qty,
    variance_pct,
    tolerance_pct,
    auto_approve_limit_pct,
    is_within_tolerance,
    -- what it posted
    adjustment_event_id,
    adjustment_qty
from {{ source('reconciliation', 'decisions') }}
