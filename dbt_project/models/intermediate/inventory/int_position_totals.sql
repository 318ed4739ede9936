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

{% if incremental_run() %}
counted as (
    select coalesce(max(through_seq), 0) as through_seq from {{ this }}
),
{% endif %}

events as (
    select * from {{ ref('stg_landing__wms_events') }}
    {% if incremental_run() %}
    where ingest_seq > (select through_seq from counted)
    {% endif %}
),

delta as (
    select
        sku_id,
        location_id,
        sum(case when bucket = 'on_hand' then qty_base else 0 end) as on_hand_qty,
        sum(case when bucket = 'held' then qty_base else 0 end) as held_qty,
        sum(case when bucket = 'reserved' then qty_base else 0 end) as reserved_qty,
        coalesce(sum(receipt_qty_base), 0) as receipt_qty,
        coalesce(sum(receipt_value), 0) as receipt_value,
        count(*) filter (where event_type = 'receipt') as receipt_count,
        count(*) filter (where event_type = 'issue') as issue_count,
        count(*) filter (where event_type = 'hold') as hold_count,
        max(event_ts) as last_movement_ts
    from events
    group by sku_id, location_id
),

final as (
    select
        d.sku_id,
        d.location_id,
        {% if incremental_run() %}
        coalesce(t.on_hand_qty, 0) + d.on_hand_qty as on_hand_qty,
        coalesce(t.held_qty, 0) + d.held_qty as held_qty,
        coalesce(t.reserved_qty, 0) + d.reserved_qty as reserved_qty,
        coalesce(t.receipt_qty, 0) + d.receipt_qty as receipt_qty,
        coalesce(t.receipt_value, 0) + d.receipt_value as receipt_value,
        coalesce(t.receipt_count, 0) + d.receipt_count as receipt_count,
        coalesce(t.issue_count, 0) + d.issue_count as issue_count,
        coalesce(t.hold_count, 0) + d.hold_count as hold_count,
        greatest(t.last_movement_ts, d.last_movement_ts) as last_movement_ts,
        {% else %}
        d.on_hand_qty,
        d.held_qty,
        d.reserved_qty,
        d.receipt_qty,
        d.receipt_value,
        d.receipt_count,
        d.issue_count,
        d.hold_count,
        d.last_movement_ts,
        {% endif %}
        (select max(ingest_seq) from events) as through_seq
    from delta as d
    {% if incremental_run() %}
    left join {{ this }} as t
        on t.sku_id = d.sku_id and t.location_id = d.location_id
    {% endif %}
)

select * from final
