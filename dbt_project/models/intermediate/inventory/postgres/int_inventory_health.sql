{{
    config(
        materialized='view',
    )
}}

{#
    Health of every position, current on every read: stock counts every committed event, demand
    is as of the last refresh. The stored health of the last refresh is used for the pairs
    without events since; for the others only the stock and what follows from it (cover,
    status) are computed here, and the whole row only for pairs not stored yet.
#}

with

{#- not materialized: each read below stays an index lookup of its own, where Postgres would
    otherwise read a CTE used twice in full, once #}
wms_events as not materialized (
    select * from {{ ref('stg_landing__wms_events') }}
),

landing_wms_events as (
    select * from {{ ref('stg_landing__wms_events') }}
),

position_totals as not materialized (
    select * from {{ ref('int_position_totals') }}
),

health_stored as not materialized (
    select * from {{ ref('int_inventory_health_stored') }}
),

sku_params as (
    select * from {{ ref('stg_landing__sku_params') }}
),

{#- A refresh commits the totals before the stored health: in between, the stored rows of the
    pairs moved by the events the totals just counted are behind them. Those pairs are re-judged
    too, with the stock of the totals, so no read sees stock older than the totals'. #}
marks as materialized (
    select
        (select coalesce(max(through_seq), 0) from position_totals) as totals_seq,
        (select coalesce(max(positions_seq), 0) from health_stored) as stored_seq
),

events_since_refresh as (
    select * from wms_events
    where {{ ingest_seq_after('(select totals_seq from marks)', 'landing_wms_events') }}
),

{#- The planner cannot know how few events follow the refresh (their bound is a subquery), so
    it would hash whole tables to join a handful of pairs: the lookups below are written as
    per-pair index lookups (lateral ... offset 0) instead. #}

-- the events since the refresh, read once, summed per pair
since_refresh as materialized (
    {{ position_sums('events_since_refresh') }}
),

-- pairs whose stored health predates events the totals have counted (none, but mid-refresh)
behind_totals as (
    select distinct sku_id, location_id
    from wms_events
    where ingest_seq > (select stored_seq from marks)
        and ingest_seq <= (select totals_seq from marks)
),

moved_pairs as materialized (
    select sku_id, location_id from since_refresh
    union
    select sku_id, location_id from behind_totals
),

-- the stock of those pairs now: as inventory_position computes it, for these pairs only
moved as materialized (
    select
        m.sku_id,
        m.location_id,
        coalesce(t.on_hand_qty, 0) + coalesce(s.on_hand_qty, 0) as on_hand_qty,
        coalesce(t.on_hand_qty, 0) + coalesce(s.on_hand_qty, 0)
            - (coalesce(t.held_qty, 0) + coalesce(s.held_qty, 0))
            - (coalesce(t.reserved_qty, 0) + coalesce(s.reserved_qty, 0)) as available_qty
    from moved_pairs as m
    left join since_refresh as s
        on s.sku_id = m.sku_id and s.location_id = m.location_id
    left join lateral (
        select * from position_totals as p
        where p.sku_id = m.sku_id and p.location_id = m.location_id
        offset 0
    ) as t on true
),

params_now as materialized (
    select max(loaded_at) as loaded_at from sku_params
),

-- each moved pair's stored row, when it was computed with the parameters loaded now
moved_stored as materialized (
    select m.sku_id, m.location_id, m.on_hand_qty, m.available_qty, h.is_stored, h.stored_row
    from moved as m
    left join lateral (
        select true as is_stored, h as stored_row
        from health_stored as h
        where h.sku_id = m.sku_id and h.location_id = m.location_id
            and h.params_loaded_at is not distinct from (select loaded_at from params_now)
        offset 0
    ) as h on true
),

-- A stored pair's policy (demand as of the refresh, parameters, safety stock, reorder point)
-- does not depend on its stock: only the stock, the cover and the status move with new events.
restocked as (
    select
        {{ restocked_health('m', '(m.stored_row)') }},
        (m.stored_row).params_loaded_at,
        (m.stored_row).positions_seq
    from moved_stored as m
    where m.is_stored
),

-- pairs not stored yet, or stored before the parameters were reloaded: computed in full
unstored as materialized (
    select sku_id, location_id, on_hand_qty, available_qty
    from moved_stored
    where is_stored is null
),

recomputed as (
    -- the same columns as the stored rows
    select h.*, null::timestamptz as params_loaded_at, null::bigint as positions_seq
    from ({{ health_rows('unstored', few_positions=true) }}) as h
),

stored as (
    select h.*
    from health_stored as h
    -- a hashed lookup in the few moved pairs, not a hash of every stored row
    where (h.sku_id, h.location_id) not in (select sku_id, location_id from moved_pairs)
),

final as (
    select * from restocked
    union all
    select * from recomputed
    union all
    select * from stored
)

select * from final
