{#
    The pattern of the running-total models: `previous`, the highest ingest_seq already counted
    (through_seq); `delta`, the sums of the events after it; `final`, those sums added to the
    stored rows of the same key (plus_stored, join_stored).
#}

{#
    The rows after `bound`, as a closed range whose upper end is the highest ingest_seq of
    `events` (a staging view of one landing table: one probe of the table's primary key, as the
    view has no WITH and Postgres merges it into the query). With only the lower bound (a
    subquery's value) the planner expects a third of the table and starts parallel workers,
    which cost more than the few thousand rows of a read-time tail; with both ends it expects a
    narrow slice and reads it through the primary key alone.
#}
{% macro ingest_seq_after(bound, events) -%}
    ingest_seq > {{ bound }}
        and ingest_seq <= (select coalesce(max(ingest_seq), 0) from {{ events }})
{%- endmacro %}

{# `d.<column>` plus the stored `t.<column>`, for each additive column. #}
{% macro plus_stored(columns) -%}
    {%- for column in columns %}
        {% if incremental_run() -%}
        coalesce(t.{{ column }}, 0) + d.{{ column }} as {{ column }},
        {%- else -%}
        d.{{ column }},
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#
    Join the delta `d` to the stored rows `t` of the same key: one lookup in the key's index
    per delta row, so the cost follows the delta rather than the size of the stored table
    (left to itself the planner hashes the whole table).
#}
{% macro join_stored(key) -%}
    {% if incremental_run() %}
    left join lateral (
        select * from {{ this }} as s
        where {% for column in key %}s.{{ column }} = d.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
        offset 0
    ) as t on true
    {% endif %}
{%- endmacro %}

{# Per-pair sums of WMS events, shared by the stored totals and the read-time tail. #}
{% macro position_sums(events) -%}
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
    from {{ events }}
    group by sku_id, location_id
{%- endmacro %}

{# The later of `d.<column>` and the stored `t.<column>`. #}
{% macro latest_of_stored(column) -%}
    {% if incremental_run() -%}
    greatest(t.{{ column }}, d.{{ column }}) as {{ column }}
    {%- else -%}
    d.{{ column }}
    {%- endif %}
{%- endmacro %}

{#
    incremental_strategy='upsert': write the run's rows into the state table with one
    INSERT ... ON CONFLICT on the key's unique index. dbt's delete+insert first deletes
    `where key in (select key from the new rows)`, which Postgres plans as a scan of the whole
    state table: a cost that grows with the table, not with the rows written. Needs a unique
    index on exactly the unique_key columns, and new rows with distinct keys.
#}
{% macro get_incremental_upsert_sql(arg_dict) -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- set columns = arg_dict['dest_columns'] -%}
    {%- set names = columns | map(attribute='quoted') | join(', ') -%}
    insert into {{ arg_dict['target_relation'] }} ({{ names }})
    select {{ names }} from {{ arg_dict['temp_relation'] }}
    on conflict ({{ keys | join(', ') }}) do update set
    {%- for column in columns if column.name not in keys %}
        {{ column.quoted }} = excluded.{{ column.quoted }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
