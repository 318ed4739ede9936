{# kept_rows: a pair whose lines all left (a line moved to another pair) keeps its row at 0. #}
{{
    config(
        unique_key=['sku_id', 'location_id'],
        indexes=[
            {'columns': ['sku_id', 'location_id'], 'unique': True},
            {'columns': ['changed_run']},
            {'columns': ['next_received_at']},
            {'columns': ['last_received_at']},
        ],
        meta={'kept_rows': 'measured_lines > 0'},
    )
}}

{#
    The measured lead time of each SKU at each location: its last 20 PO lines first received by
    as_of (macros/lead_times.sql), for the health of pairs without a lead time parameter.

    A refresh recomputes only the pairs whose figures can have changed: the pairs of every
    version of the POs whose lines this model has not seen (a new version, a receipt matched:
    int_purchase_order_lines.changed_run; every version, so that a line moved to another SKU or
    location re-measures the pair it left), and the pairs whose lines crossed the clock since:
    a line first received after the last as_of and now before the new one (next_received_at),
    or, for an earlier --as-of, counted and now after it (last_received_at).
#}

with

{#- not materialized: each read below stays an index lookup of its own #}
po_lines as not materialized (
    select * from {{ ref('int_purchase_order_lines') }}
),

po_versions as not materialized (
    select * from {{ ref('stg_landing__purchase_orders') }}
),

{% if incremental_run() %}
previous as (
    select coalesce({{ state_mark('run_seq') }}, 0) as run_seq
),

changed_pos as (
    select distinct po_id from po_lines
    where changed_run > (select run_seq from previous)
),

delta as (
    select v.sku_id, v.location_id
    from changed_pos as c
    join po_versions as v on v.po_id = c.po_id
    union
    select sku_id, location_id from {{ this }}
    where next_received_at <= {{ as_of() }}
    union
    select sku_id, location_id from {{ this }}
    where last_received_at > {{ as_of() }}
),
{% endif %}

-- the received lines of the pairs to measure (of every pair, on a full build)
received as {{ materialized() }} (
    {% if incremental_run() %}
    select l.*
    from delta as a
    -- per pair, an index lookup of its own lines
    cross join lateral (
        select * from po_lines as l
        where l.sku_id = a.sku_id and l.location_id = a.location_id
            and l.first_received_at is not null
        offset 0
    ) as l
    {% else %}
    select * from po_lines
    where first_received_at is not null
    {% endif %}
),

counted as (
    select * from received
    where {{ at_or_before_as_of('first_received_at') }}
),

measured as (
    {{ measured_lead_times('counted') }}
),

-- when the clock will move the pair's figures: its next line to count, its last one counted
edges as (
    select
        sku_id,
        location_id,
        min(first_received_at) filter (where {{ after_as_of('first_received_at') }})
            as next_received_at,
        max(first_received_at) filter (where {{ at_or_before_as_of('first_received_at') }})
            as last_received_at
    from received
    group by sku_id, location_id
),

final as (
    select
        a.sku_id,
        a.location_id,
        coalesce(m.measured_lines, 0) as measured_lines,
        m.lead_time_mean_days,
        m.lead_time_std_days,
        e.next_received_at,
        e.last_received_at,
        -- the run that changed the row: int_inventory_health_stored re-judges the pairs
        -- changed after its own last run
        {{ run_seq() }} as changed_run
    {% if incremental_run() %}
    from (select distinct sku_id, location_id from delta) as a
    {% else %}
    from (select distinct sku_id, location_id from received) as a
    {% endif %}
    left join measured as m on m.sku_id = a.sku_id and m.location_id = a.location_id
    left join edges as e on e.sku_id = a.sku_id and e.location_id = a.location_id
)

select * from final
