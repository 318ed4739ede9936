{{
    config(
        unique_key=['sku_id', 'location_id'],
        indexes=[
            {'columns': ['sku_id', 'location_id'], 'unique': True},
            {'columns': ['through_seq']},
        ] if target.type != 'materialize' else [],
    )
}}

{#
    Running totals per SKU and location, maintained additively: a refresh adds the events after
    the highest ingest_seq already counted (through_seq), so its cost grows with the new events.
    inventory_position adds the few events since, so reads never wait for a refresh.
#}

with

events as (
    {{ rows_not_yet_counted(ref('stg_landing__wms_events')) }}
),

delta as (
    {{ position_sums('events') }}
),

final as (
    select
        d.sku_id,
        d.location_id,
        {{- plus_stored([
            'on_hand_qty', 'held_qty', 'reserved_qty', 'receipt_qty', 'receipt_value',
            'receipt_count', 'issue_count', 'hold_count',
        ]) }}
        {{ latest_of_stored('last_movement_ts') }},
        (select max(ingest_seq) from events) as through_seq
    from delta as d
    {{ join_stored(['sku_id', 'location_id']) }}
)

select * from final
