{#
    Demand per SKU and location over the 28 daily slices (now - (k+1) days, now - k days], as the
    marts' dataflow keeps it current: one temporal filter per slice, since mz_now() can only be
    filtered on, not selected. The same columns as on Postgres; the bookkeeping ones are null
    here (no runs, no fixed as_of).
#}

with

order_lines_current as (
    select * from {{ ref('int_order_lines_current') }}
),

demand as (
    {% for k in range(28) %}
    select c.sku_id, c.location_id, c.order_id, c.quantity, {{ k }} as days_ago
    from order_lines_current as c
    where c.status = 'completed'
        and mz_now() >= c.order_ts + interval '{{ k }} days'
        and mz_now() < c.order_ts + interval '{{ k + 1 }} days'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
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
        p.sku_id,
        p.location_id,
        coalesce(w.units_sold_7d, 0) as units_sold_7d,
        coalesce(w.orders_7d, 0) as orders_7d,
        coalesce(p.units_28d, 0) as units_28d,
        -- population variance of the 28 slice totals (empty slices count as 0), exact in numeric
        coalesce((28 * p.units_squared_28d - p.units_28d * p.units_28d) / 784, 0) as demand_var_28d,
        (select max(through_seq) from order_lines_current) as through_seq,
        {{ as_of() }} as as_of,
        {{ run_seq() }} as changed_run
    from per_pair as p
    left join last_7_days as w on w.sku_id = p.sku_id and w.location_id = p.location_id
)

select * from final
