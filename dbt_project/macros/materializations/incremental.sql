{#
    dbt's incremental materialization (dbt-adapters' default), for Postgres, with the column
    lookups of an incremental run cut from four to one. The stream worker refreshes every few
    seconds, and dbt's own work per model (each lookup is a catalog query and a result table in
    Python) was then a third of a refresh. Differences from the default:
    - no expand_target_column_types: it widens varchar(n) columns, and the state tables have none
      (text, numeric, integers, dates and timestamps, booleans);
    - with on_schema_change 'fail' (this project's setting) or 'ignore', the new rows' columns and
      the state table's come from one query; a difference of names or types fails the run as the
      default does. The other settings take dbt's own path;
    - the commit does not wait for the disk (synchronous_commit off, for this transaction only).
    - a full refresh swaps the rebuilt table in without dropping the views on it (ops.swap_in).
    Everything else (first build, indexes, grants, hooks) is the default's.
#}
{% materialization incremental, adapter='postgres' -%}

  -- relations
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set temp_relation = make_temp_relation(target_relation)-%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation)-%}
  {%- set backup_relation_type = 'table' if existing_relation is none else existing_relation.type -%}
  {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}

  -- configs
  {%- set unique_key = config.get('unique_key') -%}
  {%- set full_refresh_mode = (should_full_refresh()  or existing_relation.is_view) -%}
  {%- set on_schema_change = incremental_validate_on_schema_change(config.get('on_schema_change'), default='ignore') -%}

  {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation)-%}
  {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
  {% set grant_config = config.get('grants') %}
  {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
  {{ drop_relation_if_exists(preexisting_backup_relation) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}

  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set incremental_strategy = config.get('incremental_strategy') or 'default' %}
  {% set strategy_sql_macro_func = adapter.get_incremental_strategy_macro(context, incremental_strategy) %}

  {% if existing_relation is none %}
      {% set build_sql = get_create_table_as_sql(False, target_relation, sql) %}
      {% set relation_for_indexes = target_relation %}
  {% elif full_refresh_mode %}
      {% set build_sql = get_create_table_as_sql(False, intermediate_relation, sql) %}
      {% set relation_for_indexes = intermediate_relation %}
      {% set need_swap = true %}
  {% else %}
    {% do run_query(get_create_table_as_sql(True, temp_relation, sql)) %}
    {% set relation_for_indexes = temp_relation %}
    {% set dest_columns = state_table_columns(on_schema_change, temp_relation, existing_relation) %}
    {% set incremental_predicates = config.get('predicates', none) or config.get('incremental_predicates', none) %}
    {% set strategy_arg_dict = ({'target_relation': target_relation, 'temp_relation': temp_relation, 'unique_key': unique_key, 'dest_columns': dest_columns, 'incremental_predicates': incremental_predicates }) %}
    {% set build_sql = strategy_sql_macro_func(strategy_arg_dict) %}
  {% endif %}

  {#- A state table is derived from the landing tables and carries its own watermark: a crash that
      loses this commit loses nothing that the next run does not redo. So the commit does not
      wait for its WAL to reach the disk (the landing writes, in their own sessions, still do). #}
  {% call statement("main") %}
      set local synchronous_commit to off;
      {{ build_sql }}
  {% endcall %}

  {% if existing_relation is none or existing_relation.is_view or should_full_refresh() %}
    {% do create_indexes(relation_for_indexes) %}
  {% endif %}

  {#- dbt renames the old table away and drops it with CASCADE after the commit, taking every
      view on it (the marts) with it until the run re-creates them: swapped in one transaction
      instead, with the views on it re-created on the new table (migration 0007). #}
  {% if need_swap %}
      {% call statement('swap_in') %}
          select ops.swap_in('{{ target_relation.render() }}', '{{ intermediate_relation.render() }}')
      {% endcall %}
  {% endif %}

  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}

  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  -- `COMMIT` happens here
  {% do adapter.commit() %}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{%- endmaterialization %}


{#- The state table's columns, for the upsert; with 'fail', a run whose new rows have other
    columns (names or types) than the state table stops, as dbt's check would. -#}
{% macro state_table_columns(on_schema_change, new_rows, state_table) %}
  {% if on_schema_change not in ('fail', 'ignore') %}
    {% do adapter.expand_target_column_types(from_relation=new_rows, to_relation=state_table) %}
    {% set columns = process_schema_changes(on_schema_change, new_rows, state_table) %}
    {{ return(columns or adapter.get_columns_in_relation(state_table)) }}
  {% endif %}
  {% call statement('state_table_columns', fetch_result=True) %}
    {{ relation_columns_sql(new_rows, 'new') }}
    union all
    {{ relation_columns_sql(state_table, 'state') }}
    order by 1, 2
  {% endcall %}
  {% set state_columns, new_shape, state_shape = [], [], [] %}
  {% for row in load_result('state_table_columns').table.rows %}
    {% set column = api.Column(row[2], row[3], row[4], row[5], row[6]) %}
    {% do (new_shape if row[0] == 'new' else state_shape).append(column.name ~ ' ' ~ column.data_type) %}
    {% if row[0] == 'state' %}{% do state_columns.append(column) %}{% endif %}
  {% endfor %}
  {% if on_schema_change == 'fail' and new_shape | sort != state_shape | sort %}
    {% do exceptions.raise_compiler_error(
        'The columns of ' ~ state_table ~ ' (' ~ state_shape | join(', ') ~ ') differ from the'
        ~ ' model\'s (' ~ new_shape | join(', ') ~ '): this incremental model needs a full'
        ~ ' refresh (on_schema_change: fail), e.g. `inventory refresh --full-refresh`.'
    ) %}
  {% endif %}
  {{ return(state_columns) }}
{% endmacro %}
