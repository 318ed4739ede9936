{{
    config(
        indexes=mart_indexes(['count_id']),
    )
}}

{#
    Every physical count against the book at its instant: variance, variance as a ratio of the
    system quantity, the tolerance and auto-approve limit of the SKU's ABC class, and what was
    decided. A count whose system quantity moved after its decision (a late event dated before
    it) is flagged for a recount; the decision and its adjustment stay as they were.
#}

with

counts as (
    select * from {{ ref('int_count_system_qty') }}
),

skus as (
    select * from {{ ref('stg_landing__skus') }}
),

decisions as (
    select * from {{ ref('int_count_decisions_latest') }}
),

classified as (
    select
        c.*,
        s.abc_class,
        {{ count_tolerance('s.abc_class') }} as tolerance_pct,
        {{ count_auto_approve_limit('s.abc_class') }} as auto_approve_limit_pct
    from counts as c
    left join skus as s on s.sku_id = c.sku_id
),

measured as (
    select
        *,
        counted_qty - system_qty as variance_qty,
        case
            when system_qty <> 0 then abs(counted_qty - system_qty) / abs(system_qty)
            when counted_qty = 0 then 0
        end as variance_pct,
        -- against an empty book only an empty shelf matches
        case
            when system_qty = 0 then counted_qty = 0
            else {{ within_ratio('counted_qty - system_qty', 'system_qty', 'tolerance_pct') }}
        end as is_within_tolerance,
        counted_qty <> system_qty
            and system_qty <> 0
            and {{ within_ratio('counted_qty - system_qty', 'system_qty', 'auto_approve_limit_pct') }}
            as is_auto_approvable
    from classified
),

final as (
    select
        -- identifiers
        m.count_id,
        m.sku_id,
        m.location_id,
        m.abc_class,
        -- the count
        m.counted_qty,
        m.counted_at,
        m.counted_by,
        -- against the book at counted_at, base units
        m.system_qty,
        m.variance_qty,
        m.variance_pct,
        m.tolerance_pct,
        m.is_within_tolerance,
        m.auto_approve_limit_pct,
        m.is_auto_approvable,
        -- the decision
        d.decision,
        d.decided_by,
        d.decided_at,
        d.decided_system_qty,
        m.own_adjustment_qty as adjustment_qty,
        case when d.decision <> 'pending' then m.system_qty - d.decided_system_qty end
            as drift_qty,
        coalesce(d.decision <> 'pending' and m.system_qty <> d.decided_system_qty, false)
            as recount_suggested,
        -- metadata: current on every read, as inventory_position
        {{ read_as_of() }} as as_of
    from measured as m
    left join decisions as d on d.count_id = m.count_id
)

select * from final
