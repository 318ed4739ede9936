{{
    config(
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
    events since (int_inventory_health). A refresh computes in full the pairs whose demand or
    measured lead time this run changed, all pairs once the parameters were reloaded, and pairs
    not stored yet. The other
    pairs whose totals changed since their rows were computed (positions_seq: the totals'
    through_seq they have seen) keep their policy and get the new stock, cover and status, as a
    read does. Each set is read through an index, so the work follows the pairs that changed.
#}

{%- set stock -%}
    t.sku_id,
    t.location_id,
    t.on_hand_qty,
    t.on_hand_qty - t.held_qty - t.reserved_qty as available_qty
{%- endset %}

with

{#- not materialized: each read below stays an index lookup of its own, where Postgres would
    otherwise read a CTE used twice in full, once #}
sku_params as not materialized (
    select * from {{ ref('stg_landing__sku_params') }}
),

position_totals as not materialized (
    select * from {{ ref('int_position_totals') }}
),

demand_velocity as (
    select * from {{ ref('int_demand_velocity') }}
),

measured_lead_times as (
    select * from {{ ref('int_measured_lead_times') }}
),

{% if incremental_run() %}
-- what the stored rows were computed from: the totals (their through_seq), the parameters
-- (their load), and the demand and measured lead times changed up to this model's last
-- completed run (in this run, or in one killed before it got here)
previous as (
    select
        (select coalesce(max(positions_seq), 0) from {{ this }}) as positions_seq,
        (select coalesce(max(params_loaded_at), '-infinity') from {{ this }}) as params_loaded_at,
        coalesce({{ state_mark('run_seq') }}, 0) as run_seq
),

is_reloaded as (
    select (select max(loaded_at) from sku_params) > (select params_loaded_at from previous) as yes
),

-- the pairs whose totals changed since, with their stock now: read straight from the totals'
-- through_seq index
delta as materialized (
    select {{ stock }}
    from position_totals as t
    where t.through_seq > (select positions_seq from previous)
),

-- the pairs whose policy moved: new demand, or a new measured lead time (a receipt matched to
-- one of their PO lines, a line counted as the clock passed its first receipt)
policy_changed as (
    select sku_id, location_id from demand_velocity
    where changed_run > (select run_seq from previous)
    union
    select sku_id, location_id from measured_lead_times
    where changed_run > (select run_seq from previous)
),

-- changed pairs with a stored row whose policy still holds: new stock on the stored policy
restocked as (
    select {{ restocked_health('m', 'h') }}
    from delta as m
    -- one index lookup per pair
    cross join lateral (
        select * from {{ this }} as s
        where s.sku_id = m.sku_id and s.location_id = m.location_id
        offset 0
    ) as h
    where not (select yes from is_reloaded)
        and (m.sku_id, m.location_id) not in (select sku_id, location_id from policy_changed)
),
{% endif %}

-- the pairs whose policy is computed (again)
positions as (
    {% if incremental_run() %}
    -- changed and not stored yet; re-judging a pair twice is harmless, and `union` keeps one of
    -- two identical rows
    select m.*
    from delta as m
    where not exists (
        select from {{ this }} as s
        where s.sku_id = m.sku_id and s.location_id = m.location_id
    )
    union
    select {{ stock }}
    from policy_changed as a
    -- one index lookup per pair, not a hash of every position
    cross join lateral (
        select * from position_totals as p
        where p.sku_id = a.sku_id and p.location_id = a.location_id
        offset 0
    ) as t
    union
    -- every pair, once the parameters were reloaded
    select {{ stock }}
    from position_totals as t
    where (select yes from is_reloaded)
    {% else %}
    select {{ stock }}
    from position_totals as t
    {% endif %}
),

health as (
    {{ health_rows('positions', few_positions=incremental_run()) }}
),

final as (
    select
        h.*,
        (select max(loaded_at) from sku_params) as params_loaded_at,
        (select max(through_seq) from position_totals) as positions_seq
    from (
        select * from health
        {% if incremental_run() %}
        union all
        select * from restocked
        {% endif %}
    ) as h
)

select * from final
