{{ config(materialized='view') }}

{#
    The latest decision on each count, with the numbers it was taken on (Postgres). Materialize
    does not replicate the decision log: there this is an empty relation of the same shape.
#}

{% if target.type != 'materialize' %}
with

decisions as (
    select * from {{ ref('stg_reconciliation__decisions') }}
),

final as (
    select distinct on (count_id)
        count_id,
        decision,
        decided_by,
        decided_at,
        system_qty as decided_system_qty
    from decisions
    order by count_id, decision_id desc
)

select * from final
{% else %}
select
    null::text as count_id,
    null::text as decision,
    null::text as decided_by,
    null::timestamptz as decided_at,
    null::numeric as decided_system_qty
where false
{% endif %}
