with

source as (
    select * from {{ source('landing', 'sku_params') }}
),

final as (
    select
        sku_id,
        location_id,
        location_id is null as is_all_locations,
        lead_time_days,
        lead_time_std_days,
        service_level,
        reorder_point,
        safety_stock,
        order_qty,
        order_multiple,
        min_order_qty,
        review_period_days,
        max_days_of_cover
    from source
)

select * from final
