{{
    config(
        indexes=mart_indexes(['work_center_id', 'sku_id', 'window_start']),
    )
}}

{#
    Work-center hours whose scrap rate is above the threshold (default scrap_rate_threshold_pct,
    per work center in scrap_rate_threshold_by_work_center). The hour that contains as_of counts
    only the events up to as_of.
#}

{% set thresholds = var('scrap_rate_threshold_by_work_center') %}

with

scrap_hourly as (
    select * from {{ ref('int_scrap_hourly') }}
),

windows as (
    select * from scrap_hourly
    where {{ at_or_before_as_of('window_start') }}
),

-- the hour that contains as_of counts only the events up to as_of (macros/marts.sql)
counted as (
    {{ scrap_hours_up_to_as_of('windows') }}
),

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
