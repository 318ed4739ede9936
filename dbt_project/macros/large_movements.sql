{#
    The index of the movements that can be spikes: a spike is larger than its threshold, which is
    never below spike_min_qty, so only the movements above spike_min_qty need to be found by SKU
    and size. Indexing just those (few) keeps ingest-time index upkeep off the ordinary
    movements, which would otherwise land on a random page of a (sku_id, abs_qty) index each.
    dbt's index config has no WHERE, hence a post-hook; the name carries the table's oid so the
    index of a table being replaced by a full refresh does not count as this table's.
#}
{% macro large_movements_index() -%}
    {% if target.type != 'materialize' %}
    do $$
    begin
        if not exists (
            select 1 from pg_indexes
            where schemaname = '{{ this.schema }}' and tablename = '{{ this.identifier }}'
                and indexname like 'large_movements_over_{{ var("spike_min_qty") }}_%'
        ) then
            execute format(
                'create index %I on {{ this }} (sku_id, abs_qty) where abs_qty > {{ var("spike_min_qty") }}',
                'large_movements_over_{{ var("spike_min_qty") }}_' || '{{ this }}'::regclass::oid
            );
        end if;
    end
    $$
    {% endif %}
{%- endmacro %}
