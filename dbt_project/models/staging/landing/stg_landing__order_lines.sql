with

source as (
    select * from {{ source('landing', 'order_lines') }}
),

final as (
    select
        ingest_seq,
        order_id,
        line_id,
        sku_id,
        location_id,
        quantity,
        status,
        order_ts,
        updated_at,
        received_at,
        -- a version without updated_at counts as received at load time: later than any
        -- explicit one; among those, the later arrival wins
        updated_at is null as is_received_now
    from source
)

select * from final
