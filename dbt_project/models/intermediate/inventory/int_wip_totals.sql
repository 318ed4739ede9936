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

events as (
    {{ rows_not_yet_counted(ref('stg_landing__mes_events')) }}
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
        {{- plus_stored(['units_started', 'units_completed', 'total_scrap']) }}
        {{ latest_of_stored('last_event_ts') }},
        (select max(ingest_seq) from events) as through_seq
    from delta as d
    {{ join_stored(['work_center_id', 'sku_id']) }}
)

select * from final
