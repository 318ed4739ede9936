{{
    config(
        indexes=mart_indexes(['sku_id', 'location_id']),
    )
}}

with

below as (
    select * from {{ ref('int_inventory_health') }}
    where available_qty < reorder_point
),

sized as (
    select
        below.*,
        greatest(
            coalesce(order_qty, 0),
            reorder_point + units_sold_7d * review_period_days / 7 - available_qty
        ) as raw_order_qty
    from below
),

final as (
    select
        -- identifiers
        sku_id,
        location_id,
        -- the shortfall
        available_qty,
        reorder_point,
        safety_stock,
        demand_rate_per_day,
        available_qty - reorder_point as qty_below_rop,
        -- what to order: up to the reorder point plus a review period of demand, in whole lots
        greatest(ceil(raw_order_qty / order_multiple) * order_multiple, min_order_qty)
            as suggested_order_qty,
        inventory_status,
        -- metadata
        {{ as_of() }} as as_of
    from sized
)

select * from final
