{{
    config(
        indexes=mart_indexes(['event_id']),
    )
}}

with

spikes as (
    -- events that left the window since their SKU was last judged are no longer listed
    select * from {{ ref('int_movement_spikes') }}
    where event_id is not null
        and {{ in_window('event_ts', 28) }}
),

final as (
    select
        -- identifiers
        event_id,
        sku_id,
        location_id,
        event_type,
        event_ts,
        -- size against the SKU's typical movement
        abs_qty,
        median_abs_qty_28d,
        threshold_qty,
        -- metadata
        {{ as_of() }} as as_of
    from spikes
)

select * from final
