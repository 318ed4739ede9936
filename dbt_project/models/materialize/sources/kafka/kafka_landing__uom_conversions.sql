{{ config(alias='uom_conversions') }}

{# Every upserted version arrives on the topic; the landing table keeps the latest per key. #}

with

topic as (
    select data from {{ ref('kafka_topic__uom_conversions') }}
),

versions as (
    select
        data ->> 'sku_id' as sku_id,
        data ->> 'uom' as uom,
        (data ->> 'factor_to_base')::numeric as factor_to_base,
        (data ->> 'batch_id')::bigint as batch_id,
        (data ->> 'loaded_at')::timestamptz as loaded_at
    from topic
),

final as (
    select distinct on (sku_id, uom)
        sku_id,
        uom,
        factor_to_base,
        batch_id,
        loaded_at
    from versions
    order by sku_id, uom, loaded_at desc, batch_id desc
)

select * from final
