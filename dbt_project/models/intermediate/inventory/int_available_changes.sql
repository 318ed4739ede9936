{{
    config(
        unique_key=['sku_id', 'location_id', 'event_ts'],
        indexes=state_table_indexes([
            {'columns': ['sku_id', 'location_id', 'event_ts'], 'unique': True},
            {'columns': ['through_seq']},
        ]),
    )
}}

{#
    The change in available stock (on hand - held - reserved) per pair and instant, summed over
    every WMS event of that instant, so that a pair's history can be replayed from an index range
    (the landing table has no index by pair or time). Kept as the running totals are: the events
    after the mark, summed per key and added to the stored row; a late event lands on its own
    instant.
#}

with

wms_events as (
    select * from {{ ref('stg_landing__wms_events') }}
),

{% if incremental_run() %}
-- how far the stored changes have counted
previous as (
    select coalesce(max(through_seq), 0) as through_seq from {{ this }}
),
{% endif %}

-- the events not counted yet (all of them on a full build)
new_events as (
    select * from wms_events
    {% if incremental_run() %}
    where ingest_seq > (select through_seq from previous)
    {% endif %}
),

-- what they change, per pair and instant: held and reserved stock is not available
delta as (
    select
        sku_id,
        location_id,
        event_ts,
        sum(case when bucket = 'on_hand' then qty_base else -qty_base end) as available_delta
    from new_events
    group by sku_id, location_id, event_ts
),

-- added to the stored instants of the same keys
final as (
    select
        d.sku_id,
        d.location_id,
        d.event_ts,
        {{- plus_stored(['available_delta']) }}
        (select max(ingest_seq) from new_events) as through_seq
    from delta as d
    {{ join_stored(['sku_id', 'location_id', 'event_ts']) }}
)

select * from final
