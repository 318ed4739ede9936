{{ config(alias='skus') }}

{# Every upserted version arrives on the topic; the landing table keeps the latest per key. #}

with

topic as (
    select data from {{ ref('kafka_topic__skus') }}
),

versions as (
    select
        data ->> 'sku_id' as sku_id,
        data ->> 'description' as description,
        data ->> 'base_uom' as base_uom,
        data ->> 'abc_class' as abc_class,
        (data ->> 'batch_id')::bigint as batch_id,
        (data ->> 'loaded_at')::timestamptz as loaded_at
    from topic
),

final as (
    select distinct on (sku_id)
        sku_id,
        description,
        base_uom,
        abc_class,
        batch_id,
        loaded_at
    from versions
    order by sku_id, loaded_at desc, batch_id desc
)

select * from final
