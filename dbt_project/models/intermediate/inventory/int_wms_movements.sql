{{
    config(
        unique_key=['ingest_seq'],
        incremental_strategy='append',
        indexes=[
            {'columns': ['ingest_seq'], 'unique': True},
            {'columns': ['event_ts']},
        ] if target.type != 'materialize' else [],
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

events as (
    select * from {{ ref('stg_landing__wms_events') }}
    where bucket = 'on_hand'
        -- exactly the events the position totals counted, so the two can be combined
        and ingest_seq <= (select coalesce(max(through_seq), 0) from {{ ref('int_position_totals') }})
    {% if incremental_run() %}
        and ingest_seq > (select coalesce(max(ingest_seq), 0) from {{ this }})
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
    from events
)

select * from final
