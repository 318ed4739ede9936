{{ config(materialized='view') }}

{#
    Each physical count with the system quantity at its instant: the on-hand deltas of the pair
    with event_ts <= counted_at, events after the count not counted even if ingested before it.
    Counts are evaluated in (counted_at, count_id) order, so earlier counts' posted adjustments
    are in, and the count's own adjustment and those of later counts of the same pair and instant
    are taken out. Both sums are index lookups per count (raw.wms_events_pair_ts_idx).
#}

{#
    The lateral subqueries read the relations themselves, not import CTEs: Postgres materialises
    a CTE read more than once, and each count would then scan the whole history.
#}

with

counts as (
    select * from {{ ref('stg_landing__physical_counts') }}
),

final as (
    select
        -- identifiers
        c.count_id,
        c.sku_id,
        c.location_id,
        -- the count
        c.counted_qty,
        c.counted_at,
        c.counted_by,
        -- the book at counted_at, in base units
        coalesce(b.book_qty, 0) - coalesce(s.own_and_later_adjustment_qty, 0) as system_qty,
        s.own_adjustment_qty,
        -- metadata
        c.ingest_seq as count_seq
    from counts as c
    -- lateral: one range of the index on (sku_id, location_id, event_ts) per count, so the
    -- planner never hashes the whole event history
    cross join lateral (
        select sum(e.qty_base) as book_qty
        from {{ ref('stg_landing__wms_events') }} as e
        where e.bucket = 'on_hand'
            and e.sku_id = c.sku_id
            and e.location_id = c.location_id
            and e.event_ts <= c.counted_at
    ) as b
    -- adjust events dated a count of the same pair and instant that reference it
    cross join lateral (
        select
            sum(e.qty_base) filter (where a.count_id = c.count_id) as own_adjustment_qty,
            sum(e.qty_base) as own_and_later_adjustment_qty
        from {{ ref('stg_landing__wms_events') }} as e
        inner join {{ ref('stg_landing__physical_counts') }} as a
            on a.count_id = e.reference_id
            and a.sku_id = c.sku_id
            and a.location_id = c.location_id
            and a.counted_at = c.counted_at
            and a.count_id >= c.count_id
        where e.sku_id = c.sku_id
            and e.location_id = c.location_id
            and e.event_ts = c.counted_at
            and e.event_type = 'adjust'
    ) as s
)

select * from final
