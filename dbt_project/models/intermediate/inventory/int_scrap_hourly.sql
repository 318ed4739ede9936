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
        {% if incremental_run() %}
        coalesce(t.scrap_qty, 0) + d.scrap_qty as scrap_qty,
        coalesce(t.started_qty, 0) + d.started_qty as started_qty,
        {% else %}
        d.scrap_qty,
        d.started_qty,
        {% endif %}
        (select max(ingest_seq) from events) as through_seq
    from delta as d
    {% if incremental_run() %}
    left join {{ this }} as t
        on t.work_center_id = d.work_center_id
        and t.sku_id = d.sku_id
        and t.window_start = d.window_start
    {% endif %}
)

select * from final
