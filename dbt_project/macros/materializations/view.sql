{#
    dbt's view materialization for Postgres renames the old view away, puts the new one in its
    place and, after the commit, drops the old one with CASCADE: every view built on it (a mart
    on a mart) is dropped too and missing until dbt re-creates it, so a reader that runs during a
    `dbt build` fails with "does not exist". This one replaces the view in one transaction
    (ops.replace_view, migration 0007): in place when the columns keep their names and types,
    else built beside it and swapped in with the views on it re-created. Readers wait for the
    moment it takes and never see it missing.
#}
{%- materialization view, adapter='postgres' -%}

  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {% set grant_config = config.get('grants') %}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}

  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% if config.get('contract').enforced %}
    {% do get_assert_columns_equivalent(sql) %}
  {% endif %}

  {% call statement('main') -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    select ops.replace_view('{{ target_relation.render() }}', $dbt_view${{ sql }}$dbt_view$)
  {%- endcall %}

  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}

  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {{ adapter.commit() }}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{%- endmaterialization -%}
