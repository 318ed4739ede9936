{{ config(alias='purchase_orders') }}

with

topic as (
    select data from {{ ref('kafka_topic__purchase_orders') }}
),

final as (
    select
        (data ->> 'ingest_seq')::bigint as ingest_seq,
        (data ->> 'batch_id')::bigint as batch_id,
        data ->> 'po_id' as po_id,
        data ->> 'line_id' as line_id,
        data ->> 'supplier_id' as supplier_id,
        data ->> 'sku_id' as sku_id,
        data ->> 'location_id' as location_id,
        (data ->> 'ordered_qty')::numeric as ordered_qty,
        (data ->> 'ordered_at')::timestamptz as ordered_at,
        (data ->> 'promised_at')::timestamptz as promised_at,
        data ->> 'status' as status,
        (data ->> 'updated_at')::timestamptz as updated_at,
        (data ->> 'received_at')::timestamptz as received_at
    from topic
)

select * from final
