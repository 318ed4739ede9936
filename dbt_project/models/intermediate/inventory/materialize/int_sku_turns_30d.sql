{#
    Inventory turns per SKU over all its locations, as the mart's dataflow keeps them current:
    units issued in the last 30 days, and the mean of the 30 end-of-day on-hand totals (the last
    "day" ending now). A movement weighs 1/30 in each end of day from its own date on, entering
    one more of them each time mz_now() passes a UTC midnight; temporal filters, since mz_now()
    can only be filtered on, not selected.
#}

with

movements as (
    select * from {{ ref('int_wms_movements') }}
),

position_totals as (
    select * from {{ ref('int_position_totals') }}
),

totals as (
    select sku_id, sum(on_hand_qty) as on_hand_qty
    from position_totals
    group by sku_id
),

window_weights as (
    {# end of day d = date(now) - j; an event counts from its own date on (j = 0 ends now) #}
    {% for j in range(30) %}
    select m.sku_id, m.qty_base / 30 as weighted_qty, 0 as issued_qty
    from movements as m
    where {% if j == 0 %}mz_now() >= m.event_ts{% else %}mz_now() >= {{ utc_trunc('day', 'm.event_ts') }} + interval '{{ j }} days'{% endif %}
    union all
    {% endfor %}
    select m.sku_id, 0, case when m.event_type = 'issue' then -m.qty_base else 0 end
    from movements as m
    where {{ in_window('m.event_ts', 30) }}
),

per_sku as (
    select sku_id, sum(weighted_qty) as avg_on_hand_30d, sum(issued_qty) as issues_30d
    from window_weights
    group by sku_id
),

final as (
    select
        t.sku_id,
        coalesce(p.issues_30d, 0) as issues_30d,
        coalesce(p.avg_on_hand_30d, 0) as avg_on_hand_30d
    from totals as t
    left join per_sku as p on p.sku_id = t.sku_id
)

select * from final
