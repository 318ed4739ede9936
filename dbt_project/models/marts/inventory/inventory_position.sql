{{
    config(
        indexes=mart_indexes(['sku_id', 'location_id']),
    )
}}

{#
    Stock per SKU and location, current on every read: the maintained totals, brought up to the
    moment of the read (on Postgres, plus the few events ingested since they were last brought
    up to date; Materialize keeps them current on its own: macros/marts.sql).
#}

with

position_totals as (
    select * from {{ ref('int_position_totals') }}
),

totals as (
    {{ position_totals_now('position_totals') }}
),

final as (
    select
        -- identifiers
        sku_id,
        location_id,
        -- quantities, in base units
        on_hand_qty,
        held_qty,
        reserved_qty,
        on_hand_qty - held_qty - reserved_qty as available_qty,
        -- value: receipts' quantity-weighted cost per base unit
        receipt_value / nullif(receipt_qty, 0) as avg_unit_cost,
        on_hand_qty * (receipt_value / nullif(receipt_qty, 0)) as on_hand_value,
        -- activity
        receipt_count,
        issue_count,
        hold_count,
        last_movement_ts,
        -- metadata
        {{ read_as_of() }} as as_of
    from totals
)

select * from final
