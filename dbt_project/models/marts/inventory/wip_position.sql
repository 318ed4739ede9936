{{
    config(
        indexes=mart_indexes(['work_center_id', 'sku_id']),
    )
}}

with

totals as (
    select * from {{ ref('int_wip_totals') }}
),

final as (
    select
        -- identifiers
        work_center_id,
        sku_id,
        -- quantities
        units_started,
        units_completed,
        total_scrap,
        units_started - units_completed - total_scrap as wip_qty,
        -- metadata
        last_event_ts,
        {{ as_of() }} as as_of
    from totals
)

select * from final
