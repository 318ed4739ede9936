{{
    config(
        indexes=[{'columns': ['event_id']}] if target.type == 'materialize' else [],
    )
}}

with

spikes as (
    select * from {{ ref('int_movement_spikes') }}
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
