{{
    config(
        enabled=target.type != 'materialize',
        unique_key=['sku_id', 'location_id'],
        indexes=[
            {'columns': ['sku_id', 'location_id'], 'unique': True},
            {'columns': ['positions_seq']},
            {'columns': ['params_loaded_at']},
        ],
        post_hook="{{ below_reorder_point_index() }}",
    )
}}

{#
    Health per pair as of the last refresh, so that a read computes it only for the pairs with
    events since (int_inventory_health). A refresh computes in full the pairs whose demand this
    run changed, all pairs once the parameters were reloaded, and pairs not stored yet. The other
    pairs whose totals changed since their rows were computed (positions_seq: the totals'
    through_seq they have seen) keep their policy and get the new stock, cover and status, as a
    read does. Each set is read through an index, so the work follows the pairs that changed.
#}

-- depends_on: {{ ref('int_position_totals') }}
-- depends_on: {{ ref('int_demand_velocity') }}

with

{%- set stock -%}
    t.sku_id,
    t.location_id,
    t.on_hand_qty,
    t.on_hand_qty - t.held_qty - t.reserved_qty as available_qty
{%- endset %}

{% if incremental_run() %}
params_loaded as (
    select max(loaded_at) as loaded_at from {{ ref('stg_landing__sku_params') }}
),

is_reloaded as (
    select (select loaded_at from params_loaded)
        > (select coalesce(max(params_loaded_at), '-infinity') from {{ this }}) as yes
),

-- the pairs whose totals changed since the stored rows were computed: read straight from the
-- totals' through_seq index
moved as materialized (
    select {{ stock }}
    from {{ ref('int_position_totals') }} as t
    where t.through_seq > (select coalesce(max(positions_seq), 0) from {{ this }})
),

-- the pairs whose demand changed since this model's last completed run (in this run, or in one
-- killed before it got here)
demand_changed as (
    select sku_id, location_id from {{ ref('int_demand_velocity') }}
    where changed_run > coalesce({{ state_mark('run_seq') }}, 0)
),

-- moved pairs with a stored row whose policy still holds: new stock on the stored policy
restocked as (
    select {{ restocked_health('m', 'h') }}
    from moved as m
    -- one index lookup per pair
    cross join lateral (
        select * from {{ this }} as s
        where s.sku_id = m.sku_id and s.location_id = m.location_id
        offset 0
    ) as h
    where not (select yes from is_reloaded)
        and (m.sku_id, m.location_id) not in (select sku_id, location_id from demand_changed)
),
{% endif %}

-- the pairs whose policy is computed (again)
positions as (
    {% if incremental_run() %}
    -- moved and not stored yet; re-judging a pair twice is harmless, and `union` keeps one of
    -- two identical rows
    select m.*
    from moved as m
    where not exists (
        select from {{ this }} as s
        where s.sku_id = m.sku_id and s.location_id = m.location_id
    )
    union
    select {{ stock }}
    from demand_changed as a
    -- one index lookup per pair, not a hash of every position
    cross join lateral (
        select * from {{ ref('int_position_totals') }} as p
        where p.sku_id = a.sku_id and p.location_id = a.location_id
        offset 0
    ) as t
    union
    -- every pair, once the parameters were reloaded
    select {{ stock }}
    from {{ ref('int_position_totals') }} as t
    where (select yes from is_reloaded)
    {% else %}
    select {{ stock }}
    from {{ ref('int_position_totals') }} as t
    {% endif %}
),

health as (
    {{ health_rows('positions', few_positions=incremental_run()) }}
),

final as (
    select
        h.*,
        (select max(loaded_at) from {{ ref('stg_landing__sku_params') }}) as params_loaded_at,
        (select max(through_seq) from {{ ref('int_position_totals') }}) as positions_seq
    from (
        select * from health
        {% if incremental_run() %}
        union all
        select * from restocked
        {% endif %}
    ) as h
)

select * from final
