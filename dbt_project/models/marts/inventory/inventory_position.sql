{{
    config(
        indexes=mart_indexes(['sku_id', 'location_id']),
    )
}}

{#
    Stock per SKU and location, current on every read: the maintained totals, brought up to the
    moment of the read (on Postgres, plus the few events ingested since they were last brought
    up to date; Materialize keeps them current on its own: macros/marts.sql). On order is what
    open purchase order lines still expect, with the receipts counted here (on_order_now).
#}

with

position_totals as (
    select * from {{ ref('int_position_totals') }}
),

totals as (
    {{ position_totals_now('position_totals') }}
),

on_order as (
    {{ on_order_now() }}
),

final as (
    select
        -- identifiers
        t.sku_id,
        t.location_id,
        -- quantities, in base units
        t.on_hand_qty,
        t.held_qty,
        t.reserved_qty,
        t.on_hand_qty - t.held_qty - t.reserved_qty as available_qty,
        coalesce(o.on_order_qty, 0) as on_order_qty,
        t.on_hand_qty - t.held_qty - t.reserved_qty + coalesce(o.on_order_qty, 0)
            as projected_qty,
        -- value: receipts' quantity-weighted cost per base unit
        t.receipt_value / nullif(t.receipt_qty, 0) as avg_unit_cost,
        t.on_hand_qty * (t.receipt_value / nullif(t.receipt_qty, 0)) as on_hand_value,
        -- activity
        t.receipt_count,
        t.issue_count,
        t.hold_count,
        t.last_movement_ts,
        -- metadata
        {{ read_as_of() }} as as_of
    from totals as t
    left join on_order as o
        on o.sku_id = t.sku_id and o.location_id = t.location_id
)

select * from final
