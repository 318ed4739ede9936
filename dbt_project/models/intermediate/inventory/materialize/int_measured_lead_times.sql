{#
    The measured lead time of each SKU at each location (macros/lead_times.sql), as the marts'
    dataflow keeps it current: a line counts once mz_now() passes its first receipt (a temporal
    filter). The same figures as on Postgres; the bookkeeping columns are null here (no runs, no
    fixed as_of).
#}

with

po_lines as (
    select * from {{ ref('int_purchase_order_lines') }}
),

counted as (
    select * from po_lines
    where first_received_at is not null
        and {{ at_or_before_as_of('first_received_at') }}
),

measured as (
    {{ measured_lead_times('counted') }}
),

final as (
    select
        sku_id,
        location_id,
        measured_lines,
        lead_time_mean_days,
        lead_time_std_days,
        null::timestamptz as next_received_at,
        null::timestamptz as last_received_at,
        null::bigint as changed_run
    from measured
)

select * from final
