{{
    config(
        unique_key=['ingest_seq'],
        incremental_strategy='append',
        indexes=state_table_indexes([
            {'columns': ['ingest_seq'], 'unique': True},
            {'columns': ['po_id']},
            {'columns': ['changed_run']},
        ]),
    )
}}

{#
    The receipts that may receive against a purchase order (a receipt with a reference_id), by
    the PO they name, appended as they come: int_purchase_order_lines finds the receipts of a PO
    here by its po_id, and the POs new receipts touch by changed_run. Exactly the receipts the
    position totals have counted, so on order and on hand move together.
#}

with

wms_events as (
    select * from {{ ref('stg_landing__wms_events') }}
),

position_totals as (
    select * from {{ ref('int_position_totals') }}
),

{% if incremental_run() %}
-- how far this table has appended: the last receipt it holds
previous as (
    select coalesce(max(ingest_seq), 0) as through_seq from {{ this }}
),
{% endif %}

delta as (
    select * from wms_events
    -- the landing table's partial index on exactly these receipts
    where event_type = 'receipt'
        and reference_id is not null
        and ingest_seq <= (select coalesce(max(through_seq), 0) from position_totals)
    {% if incremental_run() %}
        and ingest_seq > (select through_seq from previous)
    {% endif %}
),

final as (
    select
        ingest_seq,
        reference_id as po_id,
        sku_id,
        location_id,
        qty_base,
        event_ts,
        {{ run_seq() }} as changed_run
    from delta
)

select * from final
