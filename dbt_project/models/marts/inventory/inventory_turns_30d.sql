{{
    config(
        indexes=mart_indexes(['sku_id']),
    )
}}

with

turns as (
    select * from {{ ref('int_sku_turns_30d') }}
),

final as (
    select
        -- identifiers
        sku_id,
        -- flows and stock over the last 30 days
        issues_30d,
        avg_on_hand_30d,
        case when avg_on_hand_30d > 0 then issues_30d / avg_on_hand_30d end as turns_30d,
        case when avg_on_hand_30d > 0 then issues_30d / avg_on_hand_30d * 365 / 30 end
            as annualized_turns,
        -- metadata
        {{ as_of() }} as as_of
    from turns
)

select * from final
