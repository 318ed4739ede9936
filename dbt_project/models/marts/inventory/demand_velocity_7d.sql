{{
    config(
        indexes=mart_indexes(['sku_id', 'location_id']),
    )
}}

with

velocity as (
    select * from {{ ref('int_demand_velocity') }}
    where units_28d > 0
),

final as (
    select
        -- identifiers
        sku_id,
        location_id,
        -- last 7 days
        units_sold_7d,
        {{ planning_figure('units_sold_7d / 7') }} as units_per_day_7d,
        orders_7d,
        -- last 28 days
        {{ planning_figure('units_28d / 28') }} as units_per_day_28d,
        {{ planning_figure('sqrt(greatest(demand_var_28d, 0))') }} as demand_std_28d,
        -- metadata
        {{ as_of() }} as as_of
    from velocity
)

select * from final
