{#
    A partial index, created once per table: dbt's index config has no WHERE or INCLUDE, hence a
    post-hook. The name carries the table's oid, so the index of a table being replaced by a full
    refresh does not count as this table's. `name` must change whenever `where` does.
#}
{% macro partial_index(name, columns, where, include=[]) -%}
    {% if target.type != 'materialize' %}
    do $$
    begin
        if not exists (
            select 1 from pg_indexes
            where schemaname = '{{ this.schema }}' and tablename = '{{ this.identifier }}'
                and indexname like '{{ name }}\_%'
        ) then
            execute format(
                'create index %I on {{ this }} ({{ columns | join(", ") }})
                {%- if include %} include ({{ include | join(", ") }}){% endif %}
                where {{ where }}',
                '{{ name }}_' || '{{ this }}'::regclass::oid
            );
        end if;
    end
    $$
    {% endif %}
{%- endmacro %}

{#
    The movements that can be spikes: a spike is larger than its threshold, which is never below
    spike_min_qty, so only the movements above spike_min_qty need to be found by SKU and size.
    Indexing just those (few) keeps ingest-time index upkeep off the ordinary movements, which
    would otherwise land on a random page of a (sku_id, abs_qty) index each.
#}
{% macro large_movements_index() -%}
    {{ partial_index(
        'large_movements_over_' ~ var('spike_min_qty'), ['sku_id', 'abs_qty'],
        'abs_qty > ' ~ var('spike_min_qty'),
    ) }}
{%- endmacro %}

{#
    The stored pairs below their reorder point, with every column reorder_alerts reads: a read of
    the alerts scans only them, in the index alone, instead of every stored pair.
#}
{% macro below_reorder_point_index() -%}
    {{ partial_index(
        'below_reorder_point', ['sku_id', 'location_id'], 'available_qty < reorder_point',
        include=[
            'available_qty', 'reorder_point', 'safety_stock', 'demand_rate_per_day',
            'units_sold_7d', 'review_period_days', 'order_qty', 'order_multiple',
            'min_order_qty', 'inventory_status',
        ],
    ) }}
{%- endmacro %}
