{# kept_rows: a judged SKU's marker row and spikes that have left the window since stay;
   the mart drops both. #}
{{
    config(
        unique_key=['sku_id'],
        incremental_strategy='delete+insert',
        indexes=state_table_indexes([{'columns': ['sku_id']}]),
        meta={'kept_rows': "event_id is not null and event_ts > {as_of} - interval '28 days'"
            ~ " and event_ts <= {as_of}"},
    )
}}

{#
    Movement spikes: on-hand movements of the last 28 days larger than spike_factor times the
    median size of that SKU's movements in the window, and larger than spike_min_qty (so tiny
    SKUs do not flag ordinary moves). SKUs with fewer than spike_min_events movements have no
    meaningful median and are not judged.

    A refresh re-judges only the SKUs whose size distribution changed, and reads only their
    movements above the new threshold. Each judged SKU keeps one row without an event, so a SKU
    whose spikes are gone replaces its old rows; the mart drops those rows and the events that
    have left the window since.
#}

with

{#- not materialized (Postgres): each read below stays an index range of its own #}
size_counts as {{ not_materialized() }} (
    select * from {{ ref('int_sku_size_counts') }}
),

movements as (
    select * from {{ ref('int_wms_movements') }}
),

{% if incremental_run() %}
-- the run this model has judged the size distributions up to: its last completed one
previous as (
    select coalesce({{ state_mark('run_seq') }}, 0) as run_seq
),

-- the SKUs whose size distribution changed since (in this run, or in one killed before it got
-- here): each is judged again
delta as (
    select sku_id from size_counts
    where changed_run > (select run_seq from previous)
    group by sku_id
),
{% endif %}

-- A threshold is never below spike_min_qty, so a SKU with no movement above it in the window
-- has no spike whatever its median: only the others need their sizes summed and sorted. Found
-- by one probe of the (sku_id, abs_qty) index per SKU.
candidates as (
    {% if incremental_run() %}
    select d.sku_id
    from delta as d
    where exists (
        select from size_counts as c
        where c.sku_id = d.sku_id
            and c.abs_qty > {{ var('spike_min_qty') }}
            and c.movements > 0
    )
    {% else %}
    select distinct sku_id from size_counts
    where abs_qty > {{ var('spike_min_qty') }} and movements > 0
    {% endif %}
),

sizes as (
    select * from size_counts
    where movements > 0
        and sku_id in (select sku_id from candidates)
),

-- counts summed as integers (bigint sums), not as numeric: the same values, a third faster
per_sku as (
    select sku_id, sum(movements::integer) as movements
    from sizes
    group by sku_id
),

ranked as (
    select
        s.sku_id,
        s.abs_qty,
        sum(s.movements::integer) over (
            partition by s.sku_id order by s.abs_qty rows unbounded preceding
        ) as through,
        p.movements as total
    from sizes as s
    join per_sku as p on p.sku_id = s.sku_id
    where p.movements >= {{ var('spike_min_events') }}
),

typical as (
    -- the exact median: the middle size, or the mean of the two middle sizes (integer
    -- division: floor, as the counts are positive)
    select
        sku_id,
        max(total) as movements,
        (
            min(abs_qty) filter (where through >= (total + 1) / 2)
            + min(abs_qty) filter (where through >= (total + 2) / 2)
        ) / 2 as median_abs_qty_28d
    from ranked
    group by sku_id
),

thresholds as (
    select
        sku_id,
        median_abs_qty_28d,
        greatest(
            {{ var('spike_factor') }} * median_abs_qty_28d, {{ var('spike_min_qty') }}
        ) as threshold_qty
    from typical
    where movements >= {{ var('spike_min_events') }}
),

spikes as (
    -- per SKU, only its movements above the threshold: an index range, not the whole window
    select
        m.event_id,
        t.sku_id,
        m.location_id,
        m.event_type,
        m.event_ts,
        m.abs_qty,
        t.median_abs_qty_28d,
        t.threshold_qty
    from thresholds as t
    cross join lateral (
        select * from movements as w
        where w.sku_id = t.sku_id
            and w.abs_qty > t.threshold_qty
            -- implied (the threshold is never below it); lets the partial index serve the lookup
            and w.abs_qty > {{ var('spike_min_qty') }}
            and {{ in_window('w.event_ts', 28) }}
        offset 0  -- keeps it a per-SKU index lookup rather than a join over the whole window
    ) as m
),

final as (
    select * from spikes
    {% if incremental_run() %}
    union all
    -- the judged SKU itself, so its old spikes are replaced even when it has none now
    select
        null, sku_id, null, null, null::timestamptz, null::numeric, null::numeric, null::numeric
    from delta
    {% endif %}
)

select * from final
