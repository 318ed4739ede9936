{#
    dbt-postgres's create_table_as, with the table's fillfactor from `meta.fillfactor`. A state
    table whose rows a refresh updates in place is built with free room on each page, so an
    updated row's new version stays on its page (and is a HOT update where no indexed column
    changed) instead of going to the end of the table: right after a full rebuild the pages are
    packed and every update of a refresh moved its row elsewhere.
#}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
  {%- set unlogged = config.get('unlogged', default=false) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {%- set fillfactor = (config.get('meta') or {}).get('fillfactor') -%}
  {%- set storage -%}
    {%- if fillfactor and not temporary %} with (fillfactor = {{ fillfactor | int }}){% endif -%}
  {%- endset %}

  {{ sql_header if sql_header is not none }}

  create {% if temporary -%}
    temporary
  {%- elif unlogged -%}
    unlogged
  {%- endif %} table {{ relation }}
  {% set contract_config = config.get('contract') %}
  {% if contract_config.enforced %}
    {{ get_assert_columns_equivalent(sql) }}
  {% endif -%}
  {% if contract_config.enforced and (not temporary) -%}
      {{ get_table_columns_and_constraints() }}{{ storage }} ;
    insert into {{ relation }} (
      {{ adapter.dispatch('get_column_names', 'dbt')() }}
    )
    {%- set sql = get_select_subquery(sql) %}
  {% else %}
    {{ storage }} as
  {% endif %}
  (
    {{ sql }}
  );
{%- endmacro %}
