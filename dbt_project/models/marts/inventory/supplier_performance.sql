{{
    config(
        indexes=mart_indexes(['supplier_id']),
    )
}}

{#
    Each supplier's lines first received in the last 90 days, (as_of - 90 days, as_of]: how many
    came on time and how long they took. Lead times are averaged exactly (seconds), then shown
    to 4 decimals.
#}

with

lead_times as (
    select * from {{ ref('lead_times') }}
),

recent as (
    select
        supplier_id,
        on_time,
        {{ lead_time_seconds('lead_times') }} as lead_time_seconds
    from lead_times
    where {{ in_window('first_received_at', 90) }}
),

per_supplier as (
    select
        supplier_id,
        count(*) as lines,
        count(on_time) as lines_judged,
        count(case when on_time then 1 end) as lines_on_time,
        avg(lead_time_seconds) / 86400 as lead_time_mean_days,
        stddev_pop(lead_time_seconds) / 86400 as lead_time_std_days
    from recent
    group by supplier_id
),

final as (
    select
        -- identifiers
        supplier_id,
        -- lines
        lines,
        lines_judged,
        lines_on_time,
        round(100 * lines_on_time::numeric / nullif(lines_judged, 0), 2) as on_time_pct,
        -- lead times, days
        {{ planning_figure('lead_time_mean_days') }} as lead_time_mean_days,
        {{ planning_figure('lead_time_std_days') }} as lead_time_std_days,
        -- metadata
        {{ as_of() }} as as_of
    from per_supplier
)

select * from final
