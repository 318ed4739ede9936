with

source as (
    select * from {{ source('landing', 'mes_events') }}
),

final as (
    select
        ingest_seq,
        event_id,
        order_id,
        sku_id,
        work_center_id,
        event_type,
        qty,
        scrap_qty,
        bom_level,
        event_ts,
        received_at
    from source
)

select * from final
