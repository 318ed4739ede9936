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
    {{ rows_not_yet_counted(ref('int_wms_movements')) }}
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
        {{- plus_stored(['on_hand_delta', 'issued_qty']) }}
        (select max(ingest_seq) from movements) as through_seq
    from delta as d
    {{ join_stored(['sku_id', 'flow_date']) }}
)

select * from final
