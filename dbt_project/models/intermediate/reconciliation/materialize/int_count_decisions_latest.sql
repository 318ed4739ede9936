{#
    The latest decision on each count. Materialize does not replicate the decision log (the
    reconciliation's decisions are taken on Postgres): an empty relation of the Postgres
    version's shape, so count_variances is the same query on both engines.
#}

with

final as (
    select
        null::text as count_id,
        null::text as decision,
        null::text as decided_by,
        null::timestamptz as decided_at,
        null::numeric as decided_system_qty
    where false
)

select * from final
