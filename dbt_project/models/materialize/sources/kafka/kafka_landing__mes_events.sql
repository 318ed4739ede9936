{{ config(alias='mes_events') }}

with

topic as (
    select data from {{ ref('kafka_topic__mes_events') }}
),

final as (
    select
        (data ->> 'ingest_seq')::bigint as ingest_seq,
        (data ->> 'batch_id')::bigint as batch_id,
        data ->> 'event_id' as event_id,
        data ->> 'order_id' as order_id,
        data ->> 'sku_id' as sku_id,
        data ->> 'work_center_id' as work_center_id,
        data ->> 'event_type' as event_type,
        (data ->> 'qty')::numeric as qty,
        (data ->> 'scrap_qty')::numeric as scrap_qty,
        (data ->> 'bom_level')::integer as bom_level,
        (data ->> 'event_ts')::timestamptz as event_ts,
        (data ->> 'received_at')::timestamptz as received_at
    from topic
)

select * from final
