{{
    config(
        indexes=mart_indexes(['sku_id', 'location_id', 'started_at']),
    )
}}

{#
    Stockout episodes per SKU and location: the instants available stock ran out and came back,
    replayed from the events up to as_of.
#}

with

stored_episodes as (
    -- the rows of episodes, not the marker row of each replayed pair
    select * from {{ ref('int_stockout_episodes') }}
    where started_at is not null
),

episodes as (
    {{ stockout_episodes_up_to_as_of('stored_episodes') }}
),

final as (
    select
        -- identifiers
        sku_id,
        location_id,
        started_at,
        -- the episode
        ended_at,
        round(
            (extract(epoch from ended_at) - extract(epoch from started_at)) / 3600, 4
        ) as duration_hours,
        -- metadata
        {{ as_of() }} as as_of
    from episodes
)

select * from final
