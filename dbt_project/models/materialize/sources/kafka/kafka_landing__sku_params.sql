{{ config(alias='sku_params') }}

{# Every upserted version arrives on the topic; the landing table keeps the latest per key. #}

with

topic as (
    select data from {{ ref('kafka_topic__sku_params') }}
),

versions as (
    select
        data ->> 'sku_id' as sku_id,
        data ->> 'location_id' as location_id,
        (data ->> 'lead_time_days')::numeric as lead_time_days,
        (data ->> 'lead_time_std_days')::numeric as lead_time_std_days,
        (data ->> 'service_level')::numeric as service_level,
        (data ->> 'reorder_point')::numeric as reorder_point,
        (data ->> 'safety_stock')::numeric as safety_stock,
        (data ->> 'order_qty')::numeric as order_qty,
        (data ->> 'order_multiple')::numeric as order_multiple,
        (data ->> 'min_order_qty')::numeric as min_order_qty,
        (data ->> 'review_period_days')::numeric as review_period_days,
        (data ->> 'max_days_of_cover')::numeric as max_days_of_cover,
        (data ->> 'batch_id')::bigint as batch_id,
        (data ->> 'loaded_at')::timestamptz as loaded_at
    from topic
),

final as (
    select distinct on (sku_id, location_id)
        sku_id,
        location_id,
        lead_time_days,
        lead_time_std_days,
        service_level,
        reorder_point,
        safety_stock,
        order_qty,
        order_multiple,
        min_order_qty,
        review_period_days,
        max_days_of_cover,
        batch_id,
        loaded_at
    from versions
    order by sku_id, location_id, loaded_at desc, batch_id desc
)

select * from final
