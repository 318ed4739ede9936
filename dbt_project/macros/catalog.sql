{#
    dbt-postgres's column lookup, read from pg_catalog instead of information_schema.columns:
    the view checks privileges and joins a dozen catalogs for every column of the database, and
    planning it alone took ~5 ms for each lookup (unit tests, contracts, dbt's other paths).
    Same columns, names and types as the view gives for the types used here: format_type()
    names built-in types as information_schema does, and the length, precision and scale come
    from information_schema's own helper functions.
#}
{% macro postgres__get_columns_in_relation(relation) -%}
  {% call statement('get_columns_in_relation', fetch_result=True) %}
      select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
      from ({{ relation_columns_sql(relation, 'relation') }}) as columns
      order by position
  {% endcall %}
  {% set table = load_result('get_columns_in_relation').table %}
  {{ return(sql_convert_columns_in_relation(table)) }}
{%- endmacro %}


{#- One relation's columns, tagged `side` and numbered in table order: a query of its own for
    the lookup below, or two relations at once (materializations/incremental.sql). -#}
{% macro relation_columns_sql(relation, side) -%}
    select
        '{{ side }}' as side,
        a.attnum as position,
        a.attname as column_name,
        case
            when t.typtype = 'd' then format_type(t.typbasetype, null)
            when t.typelem <> 0 and t.typlen = -1 then 'ARRAY'
            when tn.nspname = 'pg_catalog' then format_type(a.atttypid, null)
            else 'USER-DEFINED'
        end as data_type,
        information_schema._pg_char_max_length(
            information_schema._pg_truetypid(a.*, t.*), information_schema._pg_truetypmod(a.*, t.*)
        ) as character_maximum_length,
        information_schema._pg_numeric_precision(
            information_schema._pg_truetypid(a.*, t.*), information_schema._pg_truetypmod(a.*, t.*)
        ) as numeric_precision,
        information_schema._pg_numeric_scale(
            information_schema._pg_truetypid(a.*, t.*), information_schema._pg_truetypmod(a.*, t.*)
        ) as numeric_scale
    from pg_catalog.pg_attribute as a
    join pg_catalog.pg_class as c on c.oid = a.attrelid
    join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
    join pg_catalog.pg_type as t on t.oid = a.atttypid
    join pg_catalog.pg_namespace as tn on tn.oid = t.typnamespace
    where c.relname = '{{ relation.identifier }}'
        {% if relation.schema %}
        and n.nspname = '{{ relation.schema }}'
        {% else %}
        and pg_catalog.pg_table_is_visible(c.oid)
        {% endif %}
        and c.relkind in ('r', 'v', 'm', 'f', 'p')
        and a.attnum > 0
        and not a.attisdropped
{%- endmacro %}
