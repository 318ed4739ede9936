{{
    config(
        indexes=[{'columns': ['work_center_id', 'sku_id', 'window_start']}]
            if target.type == 'materialize' else [],
    )
}}

{#
    Work-center hours whose scrap rate is above the threshold (default scrap_rate_threshold_pct,
    per work center in scrap_rate_threshold_by_work_center). The hour that contains as_of counts
    only the events up to as_of.
#}

{% set thresholds = var('scrap_rate_threshold_by_work_center') %}

with

windows as (
    select * from {{ ref('int_scrap_hourly') }}
    {% if target.type == 'materialize' %}
    where mz_now() >= window_start
    {% else %}
    where window_start <= {{ as_of() }}
    {% endif %}
),

{% if target.type != 'materialize' %}
after_as_of as (
    -- events in the as_of hour that are later than as_of
    select
        work_center_id,
        sku_id,
        {{ utc_trunc('hour', 'event_ts') }} as window_start,
        sum(scrap_qty) as scrap_qty,
        sum(case when event_type = 'start' then qty else 0 end) as started_qty
    from {{ ref('stg_landing__mes_events') }}
    where event_ts > {{ as_of() }}
        and event_ts < {{ utc_trunc('hour', as_of()) }} + interval '1 hour'
        and ingest_seq <= (select coalesce(max(through_seq), 0) from {{ ref('int_scrap_hourly') }})
    group by 1, 2, 3
),

counted as (
    select
        w.work_center_id,
        w.sku_id,
        w.window_start,
        w.scrap_qty - coalesce(a.scrap_qty, 0) as scrap_qty,
        w.started_qty - coalesce(a.started_qty, 0) as started_qty
    from windows as w
    left join after_as_of as a
        on a.work_center_id = w.work_center_id
        and a.sku_id = w.sku_id
        and a.window_start = w.window_start
),
{% else %}
counted as (
    select * from windows
),
{% endif %}

rated as (
    select
        counted.*,
        {% if thresholds %}
        case work_center_id
            {% for work_center, pct in thresholds.items() %}
            when '{{ work_center }}' then {{ pct }}
            {% endfor %}
            else {{ var('scrap_rate_threshold_pct') }}
        end::numeric as threshold_pct
        {% else %}
        {{ var('scrap_rate_threshold_pct') }}::numeric as threshold_pct
        {% endif %}
    from counted
    where started_qty > 0
),

final as (
    select
        -- identifiers
        work_center_id,
        sku_id,
        window_start,
        window_start + interval '1 hour' as window_end,
        -- the hour
        scrap_qty as scrap_qty_1h,
        started_qty as started_qty_1h,
        round(100 * scrap_qty / started_qty, 2) as scrap_rate_pct,
        threshold_pct,
        -- metadata
        {{ as_of() }} as as_of
    from rated
    -- the unrounded rate, compared without dividing
    where 100 * scrap_qty > threshold_pct * started_qty
)

select * from final
