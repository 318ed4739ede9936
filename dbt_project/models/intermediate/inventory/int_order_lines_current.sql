{{
    config(
        unique_key=['order_id', 'line_id'],
        indexes=state_table_indexes([
            {'columns': ['order_id', 'line_id'], 'unique': True},
            {'columns': ['through_seq']},
            {'columns': ['order_ts']},
            {'columns': ['sku_id', 'location_id', 'order_ts']},
        ]),
    )
}}

{#
    The current version of every order line: the latest updated_at wins; a version without
    updated_at counts as received at load time, later than any explicit one, and among those the
    later arrival wins. A refresh re-decides only the lines that got a new version.
#}

with

{#- not materialized (Postgres): each read below stays an index range of its own #}
order_lines as {{ not_materialized() }} (
    select * from {{ ref('stg_landing__order_lines') }}
),

{% if incremental_run() %}
-- how far the stored lines have counted
previous as (
    select coalesce(max(through_seq), 0) as through_seq from {{ this }}
),

changed_lines as (
    select distinct order_id, line_id
    from order_lines
    where ingest_seq > (select through_seq from previous)
),
{% endif %}

-- the versions to decide among: every version of the lines with a new one (of every line, on
-- a full build)
delta as (
    select v.*
    from order_lines as v
    {% if incremental_run() %}
    join changed_lines as c on c.order_id = v.order_id and c.line_id = v.line_id
    {% endif %}
),

ranked as (
    select
        delta.*,
        {{ latest_version_first(['order_id', 'line_id']) }} as version_rank
    from delta
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
        (select max(ingest_seq) from delta) as through_seq
    from ranked
    where version_rank = 1
)

select * from final
