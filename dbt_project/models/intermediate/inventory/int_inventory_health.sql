{{
    config(
        materialized='view',
    )
}}

{#
    Health of every position, current on every read: stock counts every committed event, demand
    is as of the last refresh. On Postgres the stored health of the last refresh is used for the
    pairs without events since, and only the others are computed here.
#}

{% if target.type == 'materialize' %}

{{ health_rows(ref('inventory_position')) }}

{% else %}

with

since_refresh as (
    select distinct sku_id, location_id
    from {{ ref('stg_landing__wms_events') }}
    where ingest_seq > (
        select coalesce(max(through_seq), 0) from {{ ref('int_position_totals') }}
    )
),

moved as materialized (
    select p.*
    from {{ ref('inventory_position') }} as p
    join since_refresh as s on s.sku_id = p.sku_id and s.location_id = p.location_id
),

recomputed as (
    -- the same columns as the stored rows
    select h.*, null::timestamptz as params_loaded_at
    from ({{ health_rows('moved') }}) as h
),

stored as (
    select h.*
    from {{ ref('int_inventory_health_stored') }} as h
    where not exists (
        select 1 from since_refresh as s
        where s.sku_id = h.sku_id and s.location_id = h.location_id
    )
),

final as (
    select * from recomputed
    union all
    select * from stored
)

select * from final

{% endif %}
