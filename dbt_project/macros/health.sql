{#
    Health rows for the positions in `positions` (a relation or CTE with sku_id, location_id,
    on_hand_qty, available_qty): demand as of the last refresh, parameters resolved, safety
    stock, reorder point, cover and status. Shared by the stored health (Postgres), the
    read-time recomputation of pairs with new events, and the Materialize view.

    Parameters: the SKU's row for this location wins as a whole, else its all-locations row,
    else the defaults; a chosen row's empty cells take the defaults. A pair whose chosen row
    gives no lead_time_days takes the measured lead time of its received PO lines, mean and
    std together, when it has one (int_measured_lead_times: 5 lines or more), else 7 days with
    the row's lead_time_std_days (default 0); lead_time_source says which.

    `few_positions` (Postgres): the positions are a small part of all pairs, as in an
    incremental run or a read; each one's demand is then looked up in the velocity table's key
    index instead of hashing the whole table.
#}
{% macro health_rows(positions, few_positions=false) -%}
{%- set lead_time_param -%}
    (case when here.sku_id is not null then here.lead_time_days else everywhere.lead_time_days end)
{%- endset -%}
with

positions as (
    select * from {{ positions }}
),

velocity as (
    select * from {{ ref('int_demand_velocity') }}
),

measured_lead_times as (
    select * from {{ ref('int_measured_lead_times') }}
),

params as (
    select * from {{ ref('stg_landing__sku_params') }}
),

resolved as (
    select
        p.sku_id,
        p.location_id,
        p.on_hand_qty,
        p.available_qty,
        -- kept as the week's units: d * x is computed as units * x / 7, exact where it can be
        coalesce(v.units_sold_7d, 0) as units_sold_7d,
        {{ planning_figure('coalesce(v.units_sold_7d, 0) / 7') }} as demand_rate_per_day,
        coalesce(greatest(v.demand_var_28d, 0), 0) as demand_var_per_day,
        (here.sku_id is not null) as has_location_row,
        case
            when {{ lead_time_param }} is not null then {{ lead_time_param }}
            when lt.lead_time_mean_days is not null then lt.lead_time_mean_days
            else 7
        end as lead_time_days,
        case
            when {{ lead_time_param }} is null and lt.lead_time_mean_days is not null
                then lt.lead_time_std_days
            else coalesce(case when here.sku_id is not null then here.lead_time_std_days else everywhere.lead_time_std_days end, 0)
        end as lead_time_std_days,
        case
            when {{ lead_time_param }} is not null then 'param'
            when lt.lead_time_mean_days is not null then 'measured'
            else 'default'
        end as lead_time_source,
        coalesce(case when here.sku_id is not null then here.service_level else everywhere.service_level end, 0.95) as service_level,
        case when here.sku_id is not null then here.reorder_point else everywhere.reorder_point end as reorder_point_override,
        case when here.sku_id is not null then here.safety_stock else everywhere.safety_stock end as safety_stock_override,
        case when here.sku_id is not null then here.order_qty else everywhere.order_qty end as order_qty,
        coalesce(case when here.sku_id is not null then here.order_multiple else everywhere.order_multiple end, 1) as order_multiple,
        coalesce(case when here.sku_id is not null then here.min_order_qty else everywhere.min_order_qty end, 0) as min_order_qty,
        coalesce(case when here.sku_id is not null then here.review_period_days else everywhere.review_period_days end, 7) as review_period_days,
        coalesce(case when here.sku_id is not null then here.max_days_of_cover else everywhere.max_days_of_cover end, 90) as max_days_of_cover
    from positions as p
    {% if few_positions -%}
    left join lateral (
        select * from velocity as v
        where v.sku_id = p.sku_id and v.location_id = p.location_id
        offset 0
    ) as v on true
    left join lateral (
        select * from measured_lead_times as lt
        where lt.sku_id = p.sku_id and lt.location_id = p.location_id
        offset 0
    ) as lt on true
    {%- else -%}
    left join velocity as v
        on v.sku_id = p.sku_id and v.location_id = p.location_id
    left join measured_lead_times as lt
        on lt.sku_id = p.sku_id and lt.location_id = p.location_id
    {%- endif %}
    left join params as here
        on here.sku_id = p.sku_id and here.location_id = p.location_id
    left join params as everywhere
        on everywhere.sku_id = p.sku_id and everywhere.location_id is null
),

{#- Postgres would inline these steps and compute safety stock and cover again wherever a later
    step uses them (up to five times a row): each step is computed once instead. #}
stocked as {{ materialized() }} (
    select
        resolved.*,
        coalesce(
            safety_stock_override,
            {{ planning_figure(
                '(' ~ normal_quantile('service_level') ~ ')::numeric * sqrt(
                lead_time_days * demand_var_per_day
                + units_sold_7d * units_sold_7d * lead_time_std_days * lead_time_std_days / 49)'
            ) }}
        ) as safety_stock
    from resolved
),

policy as {{ materialized() }} (
    select
        stocked.*,
        {{ planning_figure('sqrt(demand_var_per_day)') }} as demand_std_per_day,
        coalesce(
            reorder_point_override,
            {{ planning_figure('units_sold_7d * lead_time_days / 7 + safety_stock') }}
        ) as reorder_point,
        {{ days_of_cover('available_qty', 'units_sold_7d') }} as days_of_cover
    from stocked
),

final as (
    select
        policy.*,
        {{ inventory_status('available_qty', 'safety_stock', 'reorder_point', 'days_of_cover', 'max_days_of_cover') }}
            as inventory_status
    from policy
)

select * from final
{%- endmacro %}


{#
    A stored health row with new stock: its policy (demand as of the refresh, parameters, safety
    stock, reorder point) does not depend on the stock, so only the stock, the cover and the
    status change. `stock` has sku_id, location_id, on_hand_qty and available_qty; `stored` is
    the stored row (an alias or a row value). The columns of health_rows, in its order.
#}
{% macro restocked_health(stock, stored) -%}
    {%- set policy_columns = [
        'units_sold_7d', 'demand_rate_per_day', 'demand_var_per_day', 'has_location_row',
        'lead_time_days', 'lead_time_std_days', 'lead_time_source', 'service_level',
        'reorder_point_override', 'safety_stock_override', 'order_qty', 'order_multiple', 'min_order_qty',
        'review_period_days', 'max_days_of_cover', 'safety_stock', 'demand_std_per_day',
        'reorder_point',
    ] -%}
        {{ stock }}.sku_id,
        {{ stock }}.location_id,
        {{ stock }}.on_hand_qty,
        {{ stock }}.available_qty,
        {%- for column in policy_columns %}
        {{ stored }}.{{ column }},
        {%- endfor %}
        {{ days_of_cover(stock ~ '.available_qty', stored ~ '.units_sold_7d') }} as days_of_cover,
        {{ inventory_status(
            stock ~ '.available_qty', stored ~ '.safety_stock', stored ~ '.reorder_point',
            days_of_cover(stock ~ '.available_qty', stored ~ '.units_sold_7d'),
            stored ~ '.max_days_of_cover',
        ) }} as inventory_status
{%- endmacro %}


{# The stock-dependent part of health, shared with the read-time update of stored rows. #}
{% macro days_of_cover(available_qty, units_sold_7d) -%}
    case when {{ units_sold_7d }} > 0
        then {{ planning_figure(available_qty ~ ' * 7 / ' ~ units_sold_7d) }}
    end
{%- endmacro %}

{#
    A figure derived for planning (a rate, a standard deviation, safety stock, reorder point,
    days of cover), rounded half away from zero to 4 decimal places. Postgres computes a quotient
    or square root to 16 or more decimals and a product of such to 30: that precision means
    nothing to a planner or the ERP, and every reader paid for it (the figures are stored, sent
    and parsed on each read). The status is judged on the rounded figures, the ones shown.
    Computations use the exact inputs (weekly units, the variance) rather than these figures.
#}
{% macro planning_figure(expression) -%}
    round(({{ expression }})::numeric, 4)
{%- endmacro %}

{% macro inventory_status(available_qty, safety_stock, reorder_point, days_of_cover, max_days_of_cover) -%}
    case
            when {{ available_qty }} <= 0 then 'stockout'
            when {{ available_qty }} <= {{ safety_stock }} then 'below_safety_stock'
            when {{ available_qty }} <= {{ reorder_point }} then 'reorder_now'
            when {{ days_of_cover }} > {{ max_days_of_cover }} then 'overstock'
            else 'healthy'
        end
{%- endmacro %}
