{{
    config(
        materialized='view' if target.type == 'materialize' else 'table',
    )
}}

{#
    Movement spikes: an on-hand movement of the last 28 days whose size is far above what that SKU
    usually moves: above spike_factor times the median size of its movements in the window (and
    above spike_min_qty, so tiny SKUs do not flag ordinary moves). SKUs with fewer than
    spike_min_events movements have no meaningful median and are not judged.
#}

with

movements as (
    select
        event_id,
        sku_id,
        location_id,
        event_type,
        event_ts,
        abs(qty_base) as abs_qty
    from {{ ref('int_wms_movements') }}
    where {{ in_window('event_ts', 28) }}
),

ranked as (
    select
        sku_id,
        abs_qty,
        row_number() over (partition by sku_id order by abs_qty) as size_rank,
        count(*) over (partition by sku_id) as movements
    from movements
),

typical as (
    -- the exact median: the middle size, or the mean of the two middle sizes
    select
        sku_id,
        max(movements) as movements,
        avg(abs_qty) filter (
            where size_rank in ((movements + 1) / 2, (movements + 2) / 2)
        ) as median_abs_qty_28d
    from ranked
    group by sku_id
),

final as (
    select
        m.event_id,
        m.sku_id,
        m.location_id,
        m.event_type,
        m.event_ts,
        m.abs_qty,
        t.median_abs_qty_28d,
        greatest(
            {{ var('spike_factor') }} * t.median_abs_qty_28d, {{ var('spike_min_qty') }}
        ) as threshold_qty
    from movements as m
    join typical as t on t.sku_id = m.sku_id
    where t.movements >= {{ var('spike_min_events') }}
)

select * from final
where abs_qty > threshold_qty
