{{ config(alias='order_lines') }}

with

topic as (
    select data from {{ ref('kafka_topic__order_lines') }}
),

final as (
    select
        (data ->> 'ingest_seq')::bigint as ingest_seq,
        (data ->> 'batch_id')::bigint as batch_id,
        data ->> 'order_id' as order_id,
        data ->> 'line_id' as line_id,
        data ->> 'sku_id' as sku_id,
        data ->> 'location_id' as location_id,
        (data ->> 'quantity')::numeric as quantity,
        data ->> 'status' as status,
        (data ->> 'order_ts')::timestamptz as order_ts,
        (data ->> 'updated_at')::timestamptz as updated_at,
        (data ->> 'received_at')::timestamptz as received_at
    from topic
)

select * from final
