{{
    config(
        unique_key=['order_id', 'line_id'],
        indexes=[
            {'columns': ['order_id', 'line_id'], 'unique': True},
            {'columns': ['through_seq']},
            {'columns': ['order_ts']},
            {'columns': ['sku_id', 'location_id', 'order_ts']},
        ] if target.type != 'materialize' else [],
    )
}}

{#
    The current version of every order line: the latest updated_at wins; a version without
    updated_at counts as received at load time, later than any explicit one, and among those the
    later arrival wins. A refresh re-decides only the lines that got a new version.
#}

with

{% if incremental_run() %}
counted as (
    select coalesce(max(through_seq), 0) as through_seq from {{ this }}
),

touched as (
    select distinct order_id, line_id
    from {{ ref('stg_landing__order_lines') }}
    where ingest_seq > (select through_seq from counted)
),
{% endif %}

versions as (
    select v.*
    from {{ ref('stg_landing__order_lines') }} as v
    {% if incremental_run() %}
    join touched as t on t.order_id = v.order_id and t.line_id = v.line_id
    {% endif %}
),

ranked as (
    select
        versions.*,
        row_number() over (
            partition by order_id, line_id
            order by is_received_now desc, updated_at desc nulls last, ingest_seq desc
        ) as version_rank
    from versions
),

final as (
    select
        order_id,
        line_id,
        sku_id,
        location_id,
        quantity,
        status,
        order_ts,
        updated_at,
        ingest_seq as version_seq,
        (select max(ingest_seq) from versions) as through_seq
    from ranked
    where version_rank = 1
)

select * from final
