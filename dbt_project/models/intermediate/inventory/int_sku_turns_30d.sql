{{
    config(
        materialized='view' if target.type == 'materialize' else 'table',
    )
}}

{#
    Inventory turns per SKU over all its locations. The mean of the 30 end-of-day on-hand totals
    is computed per movement: an event counts in every end of day from its own date on, so it
    weighs (days it counts) / 30. Events older than the window count fully: they are the SKU's
    total minus the window's movements, so only the window is read.
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
        ({{ as_of() }} at time zone 'UTC')::date - 28 as first_full_date
),

recent as (
    -- movements dated within the 30 days, or after as_of (not yet counted at as_of)
    select
        m.sku_id,
        m.event_type,
        m.qty_base,
        m.event_ts,
        (m.event_ts at time zone 'UTC')::date as event_date
    from {{ ref('int_wms_movements') }} as m
    where m.event_ts >= (select first_full_date from bounds) at time zone 'UTC'
),

per_sku as (
    select
        r.sku_id,
        sum(r.qty_base) as recent_qty,
        sum(
            case when r.event_ts <= b.as_of
                then r.qty_base * (1 + (b.as_of_date - r.event_date)) / 30.0 else 0 end
        ) as weighted_recent_qty,
        sum(
            case when r.event_type = 'issue' and r.event_ts > b.as_of - interval '30 days'
                and r.event_ts <= b.as_of then -r.qty_base else 0 end
        ) as issues_recent
    from recent as r
    cross join bounds as b
    group by r.sku_id
),

-- issues between as_of - 30 days and the first full date are older than `recent`
boundary_issues as (
    select m.sku_id, -sum(m.qty_base) as issued
    from {{ ref('int_wms_movements') }} as m
    cross join bounds as b
    where m.event_type = 'issue'
        and m.event_ts > b.as_of - interval '30 days'
        and m.event_ts < b.first_full_date at time zone 'UTC'
    group by m.sku_id
),
{% endif %}

final as (
    select
        t.sku_id,
        {% if target.type == 'materialize' %}
        coalesce(p.issues_30d, 0) as issues_30d,
        coalesce(p.avg_on_hand_30d, 0) as avg_on_hand_30d
        {% else %}
        coalesce(p.issues_recent, 0) + coalesce(bi.issued, 0) as issues_30d,
        t.on_hand_qty - coalesce(p.recent_qty, 0) + coalesce(p.weighted_recent_qty, 0)
            as avg_on_hand_30d
        {% endif %}
    from totals as t
    left join per_sku as p on p.sku_id = t.sku_id
    {% if target.type != 'materialize' %}
    left join boundary_issues as bi on bi.sku_id = t.sku_id
    {% endif %}
)

select * from final
