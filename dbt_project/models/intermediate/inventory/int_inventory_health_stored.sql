{{
    config(
        enabled=target.type != 'materialize',
        unique_key=['sku_id', 'location_id'],
        indexes=[{'columns': ['sku_id', 'location_id'], 'unique': True}],
    )
}}

{#
    Health per pair as of the last refresh, so that a read computes it only for the pairs with
    events since (int_inventory_health). A refresh recomputes the pairs whose totals or demand it
    changed and the pairs not stored yet; all pairs when the parameters were reloaded.
#}

-- depends_on: {{ ref('int_position_totals') }}
-- depends_on: {{ ref('int_demand_velocity') }}

with

totals as (
    select
        sku_id,
        location_id,
        on_hand_qty,
        on_hand_qty - held_qty - reserved_qty as available_qty
    from {{ ref('int_position_totals') }}
),

{% if incremental_run() %}
params_loaded as (
    select max(loaded_at) as loaded_at from {{ source('landing', 'sku_params') }}
),

affected as (
    -- the rows each model wrote last: re-judging a pair twice is harmless
    select sku_id, location_id from {{ ref('int_position_totals') }}
    where through_seq = (select max(through_seq) from {{ ref('int_position_totals') }})
    union
    select sku_id, location_id from {{ ref('int_demand_velocity') }}
    where through_seq = (select max(through_seq) from {{ ref('int_demand_velocity') }})
        and as_of = (select max(as_of) from {{ ref('int_demand_velocity') }})
    union
    select t.sku_id, t.location_id from totals as t
    where not exists (
        select 1 from {{ this }} as h
        where h.sku_id = t.sku_id and h.location_id = t.location_id
    )
    union
    select sku_id, location_id from totals
    where (select loaded_at from params_loaded)
        > (select coalesce(max(params_loaded_at), '-infinity') from {{ this }})
),

positions as (
    select t.*
    from totals as t
    join affected as a on a.sku_id = t.sku_id and a.location_id = t.location_id
),
{% else %}
positions as (
    select * from totals
),
{% endif %}

health as (
    {{ health_rows('positions') }}
),

final as (
    select
        health.*,
        (select max(loaded_at) from {{ source('landing', 'sku_params') }}) as params_loaded_at
    from health
)

select * from final
