{{
    config(
        indexes=mart_indexes(['location_id', 'period', 'period_start']),
    )
}}

{#
    Inventory record accuracy per location: counts within tolerance / counts, per UTC day of
    counted_at, and over the rolling 30 days (as_of - 30 days, as_of].
#}

with

counts as (
    select * from {{ ref('count_variances') }}
),

daily as (
    select
        location_id,
        'day' as period,
        {{ utc_trunc('day', 'counted_at') }} as period_start,
        {{ utc_trunc('day', 'counted_at') }} + interval '1 day' as period_end,
        count(*) as counts,
        count(*) filter (where is_within_tolerance) as counts_within_tolerance
    from counts
    group by location_id, {{ utc_trunc('day', 'counted_at') }}
),

rolling as (
    select
        location_id,
        'rolling_30d' as period,
        {{ as_of() }} - interval '30 days' as period_start,
        {{ as_of() }} as period_end,
        count(*) as counts,
        count(*) filter (where is_within_tolerance) as counts_within_tolerance
    from counts
    where {{ in_window('counted_at', 30) }}
    group by location_id
),

periods as (
    select * from daily
    union all
    select * from rolling
),

final as (
    select
        -- identifiers
        location_id,
        period,
        period_start,
        period_end,
        -- accuracy
        counts,
        counts_within_tolerance,
        round(100.0 * counts_within_tolerance / counts, 2) as ira_pct,
        counts_within_tolerance < {{ var('ira_target_pct', 95) }} / 100.0 * counts
            as is_below_target,
        -- metadata
        {{ as_of() }} as as_of
    from periods
)

select * from final
