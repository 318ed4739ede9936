{{
    config(
        indexes=mart_indexes(['po_id', 'line_id']),
    )
}}

{#
    Every PO line first received by as_of, with its measured lead time and whether it came on
    time. on_time needs the clock only for a line not in full yet: late once its promise has
    passed, not told before. Each case is a branch of its own, since Materialize can compare
    mz_now() only in a WHERE clause.
#}

with

po_lines as (
    select * from {{ ref('int_purchase_order_lines') }}
),

received as (
    select
        po_id,
        line_id,
        supplier_id,
        sku_id,
        location_id,
        ordered_qty,
        received_qty,
        ordered_at,
        promised_at,
        first_received_at,
        received_in_full_at,
        {{ planning_figure(lead_time_seconds('po_lines') ~ ' / 86400') }} as lead_time_days
    from po_lines
    where first_received_at is not null
        and {{ at_or_before_as_of('first_received_at') }}
),

judged as (
    -- in full (on time if by the promise), or without a promise (not told)
    select
        received.*,
        received_in_full_at <= promised_at as on_time
    from received
    where received_in_full_at is not null or promised_at is null
    union all
    -- not in full and the promise passed: late
    select
        received.*,
        false as on_time
    from received
    where received_in_full_at is null
        and {{ at_or_before_as_of('promised_at') }}
    union all
    -- not in full and the promise still ahead: not told yet
    select
        received.*,
        null::boolean as on_time
    from received
    where received_in_full_at is null
        and {{ after_as_of('promised_at') }}
),

final as (
    select
        -- identifiers
        po_id,
        line_id,
        supplier_id,
        sku_id,
        location_id,
        -- quantities, base units
        ordered_qty,
        received_qty,
        -- dates
        ordered_at,
        promised_at,
        first_received_at,
        received_in_full_at,
        -- performance
        lead_time_days,
        on_time,
        -- metadata
        {{ as_of() }} as as_of
    from judged
)

select * from final
