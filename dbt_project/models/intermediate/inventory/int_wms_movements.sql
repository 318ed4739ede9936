{{
    config(
        unique_key=['ingest_seq'],
        incremental_strategy='append',
        indexes=state_table_indexes([
            {'columns': ['ingest_seq'], 'unique': True},
            {'columns': ['event_ts']},
        ]),
        post_hook="{{ large_movements_index() }}",
        meta={'fillfactor': 100},
    )
}}

{#
    On-hand movements in base units, indexed by time, for the windowed marts (turns, spikes): a
    refresh appends the new events, so time ranges are read through an index instead of scanning
    the landing table, which carries no time index to keep ingestion fast.
#}

with

wms_events as (
    select * from {{ ref('stg_landing__wms_events') }}
),

position_totals as (
    select * from {{ ref('int_position_totals') }}
),

{% if incremental_run() %}
-- how far this table has appended: the last event it holds
previous as (
    select coalesce(max(ingest_seq), 0) as through_seq from {{ this }}
),
{% endif %}

-- the on-hand events to append: exactly the events the position totals counted, so the two
-- can be combined
delta as (
    select * from wms_events
    where bucket = 'on_hand'
        and ingest_seq <= (select coalesce(max(through_seq), 0) from position_totals)
    {% if incremental_run() %}
        and ingest_seq > (select through_seq from previous)
    {% endif %}
),

final as (
    select
        ingest_seq,
        event_id,
        event_type,
        sku_id,
        location_id,
        qty_base,
        abs(qty_base) as abs_qty,
        event_ts
    from delta
)

select * from final
