{{
    config(
        materialized='view' if target.type == 'materialize' else 'incremental',
        unique_key=['sku_id'],
        indexes=[{'columns': ['sku_id'], 'unique': True}] if target.type != 'materialize' else [],
    )
}}

{#- Every refresh writes every SKU; incremental only so that its rows are replaced in place:
    re-creating the table would drop the views built on it. -#}

{#
    Inventory turns per SKU over all its locations. The mean of the 30 end-of-day on-hand totals
    is computed per day of movements: a day's change counts in every end of day from that date
    on, so it weighs (days it counts) / 30. Days older than the window count fully: they are the
    SKU's total minus the window's days. So a refresh reads 30 daily rows per SKU and the
    movements of two partial days, however long the history.
#}

with

totals as (
    select sku_id, sum(on_hand_qty) as on_hand_qty
    from {{ ref('int_position_totals') }}
    group by sku_id
),

{% if target.type == 'materialize' %}
window_weights as (
    {# end of day d = date(now) - j; an event counts from its own date on (j = 0 ends now) #}
    {% for j in range(30) %}
    select m.sku_id, m.qty_base / 30 as weighted_qty, 0 as issued_qty
    from {{ ref('int_wms_movements') }} as m
    where {% if j == 0 %}mz_now() >= m.event_ts{% else %}mz_now() >= {{ utc_trunc('day', 'm.event_ts') }} + interval '{{ j }} days'{% endif %}
    union all
    {% endfor %}
    select m.sku_id, 0, case when m.event_type = 'issue' then -m.qty_base else 0 end
    from {{ ref('int_wms_movements') }} as m
    where {{ in_window('m.event_ts', 30) }}
),

per_sku as (
    select sku_id, sum(weighted_qty) as avg_on_hand_30d, sum(issued_qty) as issues_30d
    from window_weights
    group by sku_id
),
{% else %}
bounds as (
    select
        {{ as_of() }} as as_of,
        ({{ as_of() }} at time zone 'UTC')::date as as_of_date,
        ({{ as_of() }} at time zone 'UTC')::date - 28 as first_partial_date,
        (({{ as_of() }} - interval '30 days') at time zone 'UTC')::date as issues_first_date
),

-- on the as_of date, what happened after as_of does not count yet
after_as_of as (
    select
        m.sku_id,
        sum(m.qty_base) as on_hand_delta,
        sum(case when m.event_type = 'issue' then -m.qty_base else 0 end) as issued_qty
    from {{ ref('int_wms_movements') }} as m
    cross join bounds as b
    where m.event_ts > b.as_of
        and m.event_ts < (b.as_of_date + 1)::timestamp at time zone 'UTC'
    group by m.sku_id
),

-- on the first day of the 30, only what came after as_of - 30 days counts
first_day_issues as (
    select m.sku_id, -sum(m.qty_base) as issued_qty
    from {{ ref('int_wms_movements') }} as m
    cross join bounds as b
    where m.event_type = 'issue'
        and m.event_ts > b.as_of - interval '30 days'
        and m.event_ts < (b.issues_first_date + 1)::timestamp at time zone 'UTC'
    group by m.sku_id
),

per_sku as (
    select
        f.sku_id,
        sum(f.on_hand_delta) filter (where f.flow_date >= b.first_partial_date) as recent_qty,
        -- an event counts in every end of day from its own date on: (days it counts) / 30
        sum(f.on_hand_delta * (1 + (b.as_of_date - f.flow_date)) / 30.0) filter (
            where f.flow_date between b.first_partial_date and b.as_of_date
        ) as weighted_recent_qty,
        sum(f.issued_qty) filter (
            where f.flow_date > b.issues_first_date and f.flow_date <= b.as_of_date
        ) as issues_whole_days
    from {{ ref('int_sku_daily_flows') }} as f
    cross join bounds as b
    where f.flow_date >= least(b.first_partial_date, b.issues_first_date)
    group by f.sku_id
),
{% endif %}

final as (
    select
        t.sku_id,
        {% if target.type == 'materialize' %}
        coalesce(p.issues_30d, 0) as issues_30d,
        coalesce(p.avg_on_hand_30d, 0) as avg_on_hand_30d
        {% else %}
        coalesce(p.issues_whole_days, 0) - coalesce(a.issued_qty, 0)
            + coalesce(fd.issued_qty, 0) as issues_30d,
        t.on_hand_qty - coalesce(p.recent_qty, 0) + coalesce(p.weighted_recent_qty, 0)
            - coalesce(a.on_hand_delta, 0) / 30.0 as avg_on_hand_30d
        {% endif %}
    from totals as t
    left join per_sku as p on p.sku_id = t.sku_id
    {% if target.type != 'materialize' %}
    left join after_as_of as a on a.sku_id = t.sku_id
    left join first_day_issues as fd on fd.sku_id = t.sku_id
    {% endif %}
)

select * from final
