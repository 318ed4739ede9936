{{
    config(
        unique_key=['work_center_id', 'sku_id', 'window_start'],
        indexes=[
            {'columns': ['work_center_id', 'sku_id', 'window_start'], 'unique': True},
            {'columns': ['through_seq']},
        ] if target.type != 'materialize' else [],
    )
}}

{#
    Scrap and starts per work center, SKU and hour (tumbling windows aligned to the hour), added
    up from the new events; a late event lands in the hour of its event_ts.
#}

with

events as (
    {{ rows_not_yet_counted(ref('stg_landing__mes_events')) }}
),

delta as (
    select
        work_center_id,
        sku_id,
        {{ utc_trunc('hour', 'event_ts') }} as window_start,
        sum(scrap_qty) as scrap_qty,
        sum(case when event_type = 'start' then qty else 0 end) as started_qty
    from events
    group by 1, 2, 3
),

final as (
    select
        d.work_center_id,
        d.sku_id,
        d.window_start,
        {{- plus_stored(['scrap_qty', 'started_qty']) }}
        (select max(ingest_seq) from events) as through_seq
    from delta as d
    {{ join_stored(['work_center_id', 'sku_id', 'window_start']) }}
)

select * from final
