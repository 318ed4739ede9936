{{
    config(
        indexes=mart_indexes(['sku_id', 'location_id']),
    )
}}

with

-- only these can have a projected quantity below the reorder point: on order is never negative
below as (
    select * from {{ ref('int_inventory_health') }}
    where available_qty < reorder_point
),

on_order as (
    {{ on_order_now() }}
),

-- the textbook inventory position: what is available and what is on order
projected as (
    select
        below.*,
        coalesce(o.on_order_qty, 0) as on_order_qty,
        below.available_qty + coalesce(o.on_order_qty, 0) as projected_qty
    from below
    left join on_order as o
        on o.sku_id = below.sku_id and o.location_id = below.location_id
),

sized as (
    select
        projected.*,
        greatest(
            coalesce(order_qty, 0),
            reorder_point + units_sold_7d * review_period_days / 7 - projected_qty
        ) as raw_order_qty
    from projected
    where projected_qty < reorder_point
),

final as (
    select
        -- identifiers
        sku_id,
        location_id,
        -- the shortfall
        available_qty,
        on_order_qty,
        projected_qty,
        reorder_point,
        safety_stock,
        demand_rate_per_day,
        projected_qty - reorder_point as qty_below_rop,
        -- what to order beyond what is on order: up to the reorder point plus a review period of
        -- demand, in whole lots
        greatest(ceil(raw_order_qty / order_multiple) * order_multiple, min_order_qty)
            as suggested_order_qty,
        inventory_status,
        -- metadata
        {{ as_of() }} as as_of
    from sized
)

select * from final
