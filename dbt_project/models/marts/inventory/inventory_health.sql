{{
    config(
        indexes=mart_indexes(['sku_id', 'location_id']),
    )
}}

with

health as (
    select * from {{ ref('int_inventory_health') }}
),

final as (
    select
        -- identifiers
        sku_id,
        location_id,
        -- stock
        on_hand_qty,
        available_qty,
        -- demand, as of the last refresh
        demand_rate_per_day,
        demand_std_per_day,
        -- parameters
        lead_time_days,
        lead_time_std_days,
        lead_time_source,
        service_level,
        -- policy
        safety_stock,
        reorder_point,
        days_of_cover,
        max_days_of_cover,
        inventory_status,
        -- metadata
        {{ as_of() }} as as_of
    from health
)

select * from final
