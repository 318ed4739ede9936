{{
    config(
        unique_key=['sku_id', 'location_id'],
        incremental_strategy='delete+insert',
        indexes=state_table_indexes([
            {'columns': ['sku_id', 'location_id', 'started_at'], 'unique': True},
            {'columns': ['ended_at']},
            {'columns': ['through_seq']},
        ]),
    )
}}

{#
    Stockout episodes per pair over ALL its counted events, whatever their event_ts: a replay up
    to as_of is a prefix of this one, so the marts take the episodes started by as_of and show an
    end only when it is by as_of too. The state therefore depends on the events alone, not on the
    clock, and a refresh replays only the pairs with a changed instant (new or late events): the
    whole history of each, read through the key's index of int_available_changes.
#}

with

{#- not materialized (Postgres): each read below stays an index range or probe of its own #}
changes as {{ not_materialized() }} (
    select * from {{ ref('int_available_changes') }}
),

{% if incremental_run() %}
-- how far the stored episodes have counted: int_available_changes' mark when last written
previous as (
    select coalesce(max(through_seq), 0) as through_seq from {{ this }}
),

-- the pairs with an instant changed since: each is replayed again
delta as (
    select distinct sku_id, location_id from changes
    where through_seq > (select through_seq from previous)
),

-- their whole history, one index range per pair
instants as (
    select c.sku_id, c.location_id, c.event_ts, c.available_delta
    from delta as d
    cross join lateral (
        select * from changes as c
        where c.sku_id = d.sku_id and c.location_id = d.location_id
        offset 0
    ) as c
),
{% else %}
delta as (
    select distinct sku_id, location_id from changes
),

instants as (
    select sku_id, location_id, event_ts, available_delta from changes
),
{% endif %}

-- available after each instant, all its events applied together; before the first, none
replayed as (
    select
        sku_id,
        location_id,
        event_ts,
        coalesce(
            lag(available_after) over (partition by sku_id, location_id order by event_ts), 0
        ) as available_before,
        available_after
    from (
        select
            sku_id,
            location_id,
            event_ts,
            sum(available_delta) over (
                partition by sku_id, location_id order by event_ts rows unbounded preceding
            ) as available_after
        from instants
    ) as running
),

-- the instants where stock runs out (> 0 to <= 0) or comes back (<= 0 to > 0); they alternate,
-- and a pair that never had stock has neither
crossings as (
    select
        sku_id,
        location_id,
        event_ts,
        available_after <= 0 as is_out
    from replayed
    where (available_before > 0) <> (available_after > 0)
),

-- an episode ends at the next crossing, where stock comes back
episodes as (
    select
        sku_id,
        location_id,
        event_ts as started_at,
        lead(event_ts) over (partition by sku_id, location_id order by event_ts) as ended_at,
        is_out
    from crossings
),

final as (
    select
        sku_id,
        location_id,
        started_at,
        ended_at,
        (select max(through_seq) from changes) as through_seq
    from episodes
    where is_out
    union all
    -- the replayed pair itself (started_at null), so that a pair whose episodes a late event
    -- erased replaces its old rows even when it has none now
    select
        sku_id,
        location_id,
        null::timestamptz,
        null::timestamptz,
        (select max(through_seq) from changes)
    from delta
)

select * from final
