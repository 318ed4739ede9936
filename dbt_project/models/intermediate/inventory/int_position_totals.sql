{{
    config(
        unique_key=['sku_id', 'location_id'],
        indexes=state_table_indexes([
            {'columns': ['sku_id', 'location_id'], 'unique': True},
            {'columns': ['through_seq']},
        ]),
    )
}}

{#
    Running totals per SKU and location, maintained additively: a refresh adds the events after
    the highest ingest_seq already counted (through_seq), so its cost grows with the new events.
    inventory_position adds the few events since, so reads never wait for a refresh.
#}

with

wms_events as (
    select * from {{ ref('stg_landing__wms_events') }}
),

{% if incremental_run() %}
-- how far the stored totals have counted
previous as (
    select coalesce(max(through_seq), 0) as through_seq from {{ this }}
),
{% endif %}

-- the events not counted yet (all of them on a full build)
new_events as (
    select * from wms_events
    {% if incremental_run() %}
    where ingest_seq > (select through_seq from previous)
    {% endif %}
),

-- what they add, per pair
delta as (
    {{ position_sums('new_events') }}
),

-- added to the stored totals of the same pairs
final as (
    select
        d.sku_id,
        d.location_id,
        {{- plus_stored([
            'on_hand_qty', 'held_qty', 'reserved_qty', 'receipt_qty', 'receipt_value',
            'receipt_count', 'issue_count', 'hold_count',
        ]) }}
        {{ latest_of_stored('last_movement_ts') }},
        (select max(ingest_seq) from new_events) as through_seq
    from delta as d
    {{ join_stored(['sku_id', 'location_id']) }}
)

select * from final
