{{ config(alias='wms_events') }}

with

topic as (
    select data from {{ ref('kafka_topic__wms_events') }}
),

final as (
    select
        (data ->> 'ingest_seq')::bigint as ingest_seq,
        (data ->> 'batch_id')::bigint as batch_id,
        data ->> 'event_id' as event_id,
        data ->> 'event_type' as event_type,
        data ->> 'sku_id' as sku_id,
        data ->> 'location_id' as location_id,
        (data ->> 'qty_delta')::numeric as qty_delta,
        (data ->> 'unit_cost')::numeric as unit_cost,
        data ->> 'uom' as uom,
        (data ->> 'uom_factor')::numeric as uom_factor,
        (data ->> 'event_ts')::timestamptz as event_ts,
        data ->> 'reference_id' as reference_id,
        (data ->> 'received_at')::timestamptz as received_at
    from topic
)

select * from final
