{{ config(alias='physical_counts') }}

with

topic as (
    select data from {{ ref('kafka_topic__physical_counts') }}
),

final as (
    select
        (data ->> 'ingest_seq')::bigint as ingest_seq,
        (data ->> 'batch_id')::bigint as batch_id,
        data ->> 'count_id' as count_id,
        data ->> 'sku_id' as sku_id,
        data ->> 'location_id' as location_id,
        (data ->> 'counted_qty')::numeric as counted_qty,
        (data ->> 'counted_at')::timestamptz as counted_at,
        data ->> 'counted_by' as counted_by,
        (data ->> 'received_at')::timestamptz as received_at
    from topic
)

select * from final
