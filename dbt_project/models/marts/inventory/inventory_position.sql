{{
    config(
        indexes=[{'columns': ['sku_id', 'location_id']}] if target.type == 'materialize' else [],
    )
}}

{#
    Stock per SKU and location, current on every read: the maintained totals plus the few events
    ingested since they were last brought up to date (on Postgres; Materialize keeps it current
    on its own).
#}

with

totals as (
    select * from {{ ref('int_position_totals') }}
),

{% if target.type != 'materialize' %}
events_since_refresh as (
    select * from {{ ref('stg_landing__wms_events') }}
    where {{ ingest_seq_after(
        '(select coalesce(max(through_seq), 0) from totals)', ref('stg_landing__wms_events')
    ) }}
),

since_refresh as (
    {{ position_sums('events_since_refresh') }}
),

combined as (
    select
        coalesce(t.sku_id, s.sku_id) as sku_id,
        coalesce(t.location_id, s.location_id) as location_id,
        coalesce(t.on_hand_qty, 0) + coalesce(s.on_hand_qty, 0) as on_hand_qty,
        coalesce(t.held_qty, 0) + coalesce(s.held_qty, 0) as held_qty,
        coalesce(t.reserved_qty, 0) + coalesce(s.reserved_qty, 0) as reserved_qty,
        coalesce(t.receipt_qty, 0) + coalesce(s.receipt_qty, 0) as receipt_qty,
        coalesce(t.receipt_value, 0) + coalesce(s.receipt_value, 0) as receipt_value,
        coalesce(t.receipt_count, 0) + coalesce(s.receipt_count, 0) as receipt_count,
        coalesce(t.issue_count, 0) + coalesce(s.issue_count, 0) as issue_count,
        coalesce(t.hold_count, 0) + coalesce(s.hold_count, 0) as hold_count,
        greatest(t.last_movement_ts, s.last_movement_ts) as last_movement_ts
    from totals as t
    full outer join since_refresh as s
        on s.sku_id = t.sku_id and s.location_id = t.location_id
),
{% else %}
combined as (
    select * from totals
),
{% endif %}

final as (
    select
        -- identifiers
        sku_id,
        location_id,
        -- quantities, in base units
        on_hand_qty,
        held_qty,
        reserved_qty,
        on_hand_qty - held_qty - reserved_qty as available_qty,
        -- value: receipts' quantity-weighted cost per base unit
        receipt_value / nullif(receipt_qty, 0) as avg_unit_cost,
        on_hand_qty * (receipt_value / nullif(receipt_qty, 0)) as on_hand_value,
        -- activity
        receipt_count,
        issue_count,
        hold_count,
        last_movement_ts,
        -- metadata
        {{ 'null::timestamptz' if target.type == 'materialize' else 'now()' }} as as_of
    from combined
)

select * from final
