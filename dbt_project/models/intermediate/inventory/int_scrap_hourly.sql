{{
    config(
        unique_key=['work_center_id', 'sku_id', 'window_start'],
        indexes=state_table_indexes([
            {'columns': ['work_center_id', 'sku_id', 'window_start'], 'unique': True},
            {'columns': ['through_seq']},
        ]),
    )
}}

{#
    Scrap and starts per work center, SKU and hour (tumbling windows aligned to the hour), added
    up from the new events; a late event lands in the hour of its event_ts.
#}

with

mes_events as (
    select * from {{ ref('stg_landing__mes_events') }}
),

{% if incremental_run() %}
-- how far the stored hours have counted
previous as (
    select coalesce(max(through_seq), 0) as through_seq from {{ this }}
),
{% endif %}

-- the events not counted yet (all of them on a full build)
new_events as (
    select * from mes_events
    {% if incremental_run() %}
    where ingest_seq > (select through_seq from previous)
    {% endif %}
),

-- what they add, per work center, SKU and hour
delta as (
    select
        work_center_id,
        sku_id,
        {{ utc_trunc('hour', 'event_ts') }} as window_start,
        sum(scrap_qty) as scrap_qty,
        sum(case when event_type = 'start' then qty else 0 end) as started_qty
    from new_events
    group by 1, 2, 3
),

-- added to the stored hours of the same keys
final as (
    select
        d.work_center_id,
        d.sku_id,
        d.window_start,
        {{- plus_stored(['scrap_qty', 'started_qty']) }}
        (select max(ingest_seq) from new_events) as through_seq
    from delta as d
    {{ join_stored(['work_center_id', 'sku_id', 'window_start']) }}
)

select * from final
