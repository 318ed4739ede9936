{{
    config(
        unique_key=['work_center_id', 'sku_id'],
        indexes=state_table_indexes([
            {'columns': ['work_center_id', 'sku_id'], 'unique': True},
            {'columns': ['through_seq']},
        ]),
    )
}}

{# Running WIP totals per work center and SKU, maintained additively like the position totals. #}

with

mes_events as (
    select * from {{ ref('stg_landing__mes_events') }}
),

{% if incremental_run() %}
-- how far the stored totals have counted
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

-- what they add, per work center and SKU
delta as (
    select
        work_center_id,
        sku_id,
        sum(case when event_type = 'start' then qty else 0 end) as units_started,
        sum(case when event_type = 'complete' then qty else 0 end) as units_completed,
        sum(scrap_qty) as total_scrap,
        max(event_ts) as last_event_ts
    from new_events
    group by work_center_id, sku_id
),

-- added to the stored totals of the same keys
final as (
    select
        d.work_center_id,
        d.sku_id,
        {{- plus_stored(['units_started', 'units_completed', 'total_scrap']) }}
        {{ latest_of_stored('last_event_ts') }},
        (select max(ingest_seq) from new_events) as through_seq
    from delta as d
    {{ join_stored(['work_center_id', 'sku_id']) }}
)

select * from final
