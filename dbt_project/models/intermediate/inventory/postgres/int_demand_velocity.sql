{# kept_rows: a pair whose demand left the window keeps its row at zero; the mart drops it. #}
{{
    config(
        unique_key=['sku_id', 'location_id'],
        indexes=[
            {'columns': ['sku_id', 'location_id'], 'unique': True},
            {'columns': ['through_seq']},
            {'columns': ['changed_run']},
        ],
        meta={'kept_rows': 'units_28d > 0'},
    )
}}

{#
    Demand per SKU and location over the 28 daily slices (as_of - (k+1) days, as_of - k days].

    A refresh recomputes only the pairs whose figures can have changed: pairs of order lines that
    got a new version, and pairs with demand on a slice boundary that moved since the last
    refresh (between the previous and the new as_of, shifted by 0..28 days). Rows of pairs whose
    demand left the window stay with zero units; the mart drops them.
#}

with

{#- not materialized: each read below stays an index range of its own, where Postgres would
    otherwise read a CTE used twice in full, once #}
order_lines as not materialized (
    select * from {{ ref('stg_landing__order_lines') }}
),

order_lines_current as not materialized (
    select * from {{ ref('int_order_lines_current') }}
),

{% if incremental_run() %}
-- the order lines and the instant this table has counted: its own through_seq, and the as_of
-- of its last completed run
previous as (
    select
        coalesce(max(through_seq), 0) as through_seq,
        coalesce({{ state_mark('as_of') }}, max(as_of), {{ as_of() }}) as as_of
    from {{ this }}
),

boundaries as (
    select
        least(previous.as_of, {{ as_of() }}) as lower_end,
        greatest(previous.as_of, {{ as_of() }}) as upper_end
    from previous
),

changed_lines as (
    select distinct order_id, line_id
    from order_lines
    where ingest_seq > (select through_seq from previous)
),

-- the pairs whose figures can have changed since
delta as (
    select v.sku_id, v.location_id
    from order_lines as v
    join changed_lines as c on c.order_id = v.order_id and c.line_id = v.line_id
    {% for days in range(29) %}
    {# one range per shifted edge, so each is an index range scan #}
    union
    select c.sku_id, c.location_id
    from order_lines_current as c
    where c.status = 'completed'
        and c.order_ts > (select lower_end from boundaries) - interval '{{ days }} days'
        and c.order_ts <= (select upper_end from boundaries) - interval '{{ days }} days'
    {% endfor %}
),
{% endif %}

demand as (
    select
        c.sku_id,
        c.location_id,
        c.order_id,
        c.quantity,
        floor(extract(epoch from {{ as_of() }} - c.order_ts) / 86400)::integer as days_ago
    {% if incremental_run() %}
    from (select distinct sku_id, location_id from delta) as a
    -- per changed pair, an index range over its own lines, not the whole window's
    cross join lateral (
        select * from order_lines_current as l
        where l.sku_id = a.sku_id and l.location_id = a.location_id
            and l.status = 'completed'
            and {{ in_window('l.order_ts', 28) }}
        offset 0
    ) as c
    {% else %}
    from order_lines_current as c
    where c.status = 'completed'
        and {{ in_window('c.order_ts', 28) }}
    {% endif %}
),

daily as (
    select sku_id, location_id, days_ago, sum(quantity) as units
    from demand
    group by sku_id, location_id, days_ago
),

per_pair as (
    select
        sku_id,
        location_id,
        sum(units) as units_28d,
        sum(units * units) as units_squared_28d
    from daily
    group by sku_id, location_id
),

last_7_days as (
    select
        sku_id,
        location_id,
        sum(quantity) as units_sold_7d,
        count(distinct order_id) as orders_7d
    from demand
    where days_ago < 7
    group by sku_id, location_id
),

final as (
    select
        {% if incremental_run() %}
        a.sku_id,
        a.location_id,
        {% else %}
        p.sku_id,
        p.location_id,
        {% endif %}
        coalesce(w.units_sold_7d, 0) as units_sold_7d,
        coalesce(w.orders_7d, 0) as orders_7d,
        coalesce(p.units_28d, 0) as units_28d,
        -- population variance of the 28 slice totals (empty slices count as 0), exact in numeric
        coalesce((28 * p.units_squared_28d - p.units_28d * p.units_28d) / 784, 0) as demand_var_28d,
        (select max(through_seq) from order_lines_current) as through_seq,
        {{ as_of() }} as as_of,
        -- the run that changed the row: int_inventory_health_stored recomputes the pairs
        -- changed after its own last run
        {{ run_seq() }} as changed_run
    {% if incremental_run() %}
    from (select distinct sku_id, location_id from delta) as a
    left join per_pair as p on p.sku_id = a.sku_id and p.location_id = a.location_id
    left join last_7_days as w on w.sku_id = a.sku_id and w.location_id = a.location_id
    {% else %}
    from per_pair as p
    left join last_7_days as w on w.sku_id = p.sku_id and w.location_id = p.location_id
    {% endif %}
)

select * from final
