{{
    config(
        unique_key=['work_center_id', 'sku_id'],
        indexes=[
            {'columns': ['work_center_id', 'sku_id'], 'unique': True},
            {'columns': ['through_seq']},
        ] if target.type != 'materialize' else [],
    )
}}

{# Running WIP totals per work center and SKU, maintained additively like the position totals. #}

with

{% if incremental_run() %}
counted as (
    select coalesce(max(through_seq), 0) as through_seq from {{ this }}
),
{% endif %}

events as (
    select * from {{ ref('stg_landing__mes_events') }}
    {% if incremental_run() %}
    where ingest_seq > (select through_seq from counted)
    {% endif %}
),

delta as (
    select
        work_center_id,
        sku_id,
        sum(case when event_type = 'start' then qty else 0 end) as units_started,
        sum(case when event_type = 'complete' then qty else 0 end) as units_completed,
        sum(scrap_qty) as total_scrap,
        max(event_ts) as last_event_ts
    from events
    group by work_center_id, sku_id
),

final as (
    select
        d.work_center_id,
        d.sku_id,
        {% if incremental_run() %}
        coalesce(t.units_started, 0) + d.units_started as units_started,
        coalesce(t.units_completed, 0) + d.units_completed as units_completed,
        coalesce(t.total_scrap, 0) + d.total_scrap as total_scrap,
        greatest(t.last_event_ts, d.last_event_ts) as last_event_ts,
        {% else %}
        d.units_started,
        d.units_completed,
        d.total_scrap,
        d.last_event_ts,
        {% endif %}
        (select max(ingest_seq) from events) as through_seq
    from delta as d
    {% if incremental_run() %}
    left join {{ this }} as t
        on t.work_center_id = d.work_center_id and t.sku_id = d.sku_id
    {% endif %}
)

select * from final
