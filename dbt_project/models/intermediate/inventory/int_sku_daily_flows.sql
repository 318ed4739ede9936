{{
    config(
        unique_key=['sku_id', 'flow_date'],
        indexes=[
            {'columns': ['sku_id', 'flow_date'], 'unique': True},
            {'columns': ['flow_date']},
            {'columns': ['through_seq']},
        ] if target.type != 'materialize' else [],
    )
}}

{# On-hand change and units issued per SKU and UTC date, added up from the new movements. #}

with

movements as (
    select * from {{ ref('int_wms_movements') }}
    {% if incremental_run() %}
    where ingest_seq > (select coalesce(max(through_seq), 0) from {{ this }})
    {% endif %}
),

delta as (
    select
        sku_id,
        (event_ts at time zone 'UTC')::date as flow_date,
        sum(qty_base) as on_hand_delta,
        sum(case when event_type = 'issue' then -qty_base else 0 end) as issued_qty
    from movements
    group by 1, 2
),

final as (
    select
        d.sku_id,
        d.flow_date,
        {% if incremental_run() %}
        coalesce(t.on_hand_delta, 0) + d.on_hand_delta as on_hand_delta,
        coalesce(t.issued_qty, 0) + d.issued_qty as issued_qty,
        {% else %}
        d.on_hand_delta,
        d.issued_qty,
        {% endif %}
        (select max(ingest_seq) from movements) as through_seq
    from delta as d
    {% if incremental_run() %}
    left join {{ this }} as t on t.sku_id = d.sku_id and t.flow_date = d.flow_date
    {% endif %}
)

select * from final
