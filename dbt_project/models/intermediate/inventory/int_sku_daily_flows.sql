{{
    config(
        unique_key=['sku_id', 'flow_date'],
        indexes=state_table_indexes([
            {'columns': ['sku_id', 'flow_date'], 'unique': True},
            {'columns': ['flow_date']},
            {'columns': ['through_seq']},
        ]),
    )
}}

{# On-hand change and units issued per SKU and UTC date, added up from the new movements. #}

with

movements as (
    select * from {{ ref('int_wms_movements') }}
),

{% if incremental_run() %}
-- how far the stored days have counted
previous as (
    select coalesce(max(through_seq), 0) as through_seq from {{ this }}
),
{% endif %}

-- the movements not counted yet (all of them on a full build)
new_movements as (
    select * from movements
    {% if incremental_run() %}
    where ingest_seq > (select through_seq from previous)
    {% endif %}
),

-- what they add, per SKU and date
delta as (
    select
        sku_id,
        (event_ts at time zone 'UTC')::date as flow_date,
        sum(qty_base) as on_hand_delta,
        sum(case when event_type = 'issue' then -qty_base else 0 end) as issued_qty
    from new_movements
    group by 1, 2
),

-- added to the stored days of the same keys
final as (
    select
        d.sku_id,
        d.flow_date,
        {{- plus_stored(['on_hand_delta', 'issued_qty']) }}
        (select max(ingest_seq) from new_movements) as through_seq
    from delta as d
    {{ join_stored(['sku_id', 'flow_date']) }}
)

select * from final
