{{
    config(
        indexes=mart_indexes(['sku_id', 'location_id']),
    )
}}

{#
    How often and how long each SKU-location was out of stock in the last 30 days. Postgres only:
    the hours out of an open episode and at the window's start grow with the clock, a figure
    Materialize cannot select (mz_now() may only be filtered on).
#}

with

inventory_position as (
    select * from {{ ref('inventory_position') }}
),

-- the episodes that can overlap the window: started by as_of, not ended before it opened
stored_episodes as (
    select * from {{ ref('int_stockout_episodes') }}
    where started_at <= {{ as_of() }}
        and (ended_at is null or ended_at > {{ as_of() }} - interval '30 days')
),

bounds as (
    select
        {{ as_of() }} as as_of,
        {{ as_of() }} - interval '30 days' as window_start
),

-- each episode's overlap with (as_of - 30 days, as_of]: an end after as_of is not seen yet, so
-- the episode runs to as_of
episode_overlaps as (
    select
        e.sku_id,
        e.location_id,
        e.started_at > b.window_start as started_in_window,
        extract(epoch from least(coalesce(e.ended_at, b.as_of), b.as_of))
            - extract(epoch from greatest(e.started_at, b.window_start)) as seconds_out
    from stored_episodes as e
    cross join bounds as b
),

per_pair as (
    select
        sku_id,
        location_id,
        count(*) filter (where started_in_window) as stockouts_30d,
        sum(seconds_out) as seconds_out_30d
    from episode_overlaps
    group by sku_id, location_id
),

final as (
    select
        -- identifiers
        p.sku_id,
        p.location_id,
        -- the last 30 days
        coalesce(e.stockouts_30d, 0) as stockouts_30d,
        round(coalesce(e.seconds_out_30d, 0) / 3600, 4) as hours_out_30d,
        -- 100 * (1 - hours / 720) = 100 - seconds / 25920, from the exact seconds
        round(100 - coalesce(e.seconds_out_30d, 0) / 25920, 2) as in_stock_pct_30d,
        -- metadata
        {{ as_of() }} as as_of
    from inventory_position as p
    left join per_pair as e
        on e.sku_id = p.sku_id and e.location_id = p.location_id
)

select * from final
