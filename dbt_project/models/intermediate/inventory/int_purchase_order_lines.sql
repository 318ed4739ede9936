{{
    config(
        unique_key=['po_id', 'line_id'],
        indexes=state_table_indexes([
            {'columns': ['po_id', 'line_id'], 'unique': True},
            {'columns': ['through_seq']},
            {'columns': ['changed_run']},
            {'columns': ['sku_id', 'location_id']},
        ]),
    )
}}

{#
    Every purchase order line in its current version, with the receipts matched to it
    (macros/purchase_orders.sql). A refresh re-matches only the POs it touches: those with a new
    version of a line, or a receipt appended since this model's last run (a late receipt too).
#}

with

{#- not materialized (Postgres): each read below stays an index lookup of its own #}
po_versions as {{ not_materialized() }} (
    select * from {{ ref('stg_landing__purchase_orders') }}
),

po_receipts as {{ not_materialized() }} (
    select * from {{ ref('int_po_receipts') }}
),

{% if incremental_run() %}
-- how far the stored lines have counted: the versions (their ingest_seq) and the receipts
-- (appended by runs up to this model's last completed one)
previous as (
    select
        (select coalesce(max(through_seq), 0) from {{ this }}) as through_seq,
        coalesce({{ state_mark('run_seq') }}, 0) as run_seq
),

touched as (
    select po_id from po_versions
    where ingest_seq > (select through_seq from previous)
    union
    select po_id from po_receipts
    where changed_run > (select run_seq from previous)
),
{% endif %}

-- every version of the touched POs (of every PO, on a full build)
versions as {{ materialized() }} (
    select v.*
    from po_versions as v
    {% if incremental_run() %}
    where v.po_id in (select po_id from touched)
    {% endif %}
),

ranked as (
    select
        versions.*,
        {{ latest_version_first(['po_id', 'line_id']) }} as version_rank
    from versions
),

lines as {{ materialized() }} (
    select * from ranked
    where version_rank = 1
),

receipts as (
    select r.*
    from po_receipts as r
    {% if incremental_run() %}
    where r.po_id in (select po_id from touched)
    {% endif %}
),

matched as (
    {{ po_receipts_matched('lines', 'receipts') }}
),

final as (
    select
        -- identifiers
        l.po_id,
        l.line_id,
        l.supplier_id,
        l.sku_id,
        l.location_id,
        -- the current version
        l.ordered_qty,
        l.ordered_at,
        l.promised_at,
        l.status,
        l.updated_at,
        -- the receipts matched to it
        coalesce(m.received_qty, 0) as received_qty,
        m.first_received_at,
        m.received_in_full_at,
        -- bookkeeping
        l.ingest_seq as version_seq,
        (select max(ingest_seq) from versions) as through_seq,
        {{ run_seq() }} as changed_run
    from lines as l
    left join matched as m
        on m.po_id = l.po_id and m.line_id = l.line_id
)

select * from final
