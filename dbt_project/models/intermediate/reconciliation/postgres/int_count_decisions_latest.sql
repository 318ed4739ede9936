{{ config(materialized='view') }}

{# The latest decision on each count, with the numbers it was taken on. #}

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
