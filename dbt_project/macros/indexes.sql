{#
    The indexes of a model that exists on both engines, for its config. Each engine indexes a
    different layer: on Postgres the state tables, which the refreshes and the marts' views read
    through their keys; on Materialize the marts, whose index keeps the materialized view's
    results in memory for reads by key. Neither has the other's: a Postgres mart is a plain view,
    and a Materialize intermediate is a view that the marts' dataflows maintain (an index on it
    would keep a second copy of its rows in memory).
#}

{# A state table's indexes (Postgres), the key's unique index first. #}
{% macro state_table_indexes(indexes) -%}
    {{ return(adapter.dispatch('state_table_indexes')(indexes)) }}
{%- endmacro %}

{% macro postgres__state_table_indexes(indexes) -%}
    {{ return(indexes) }}
{%- endmacro %}

{% macro materialize__state_table_indexes(indexes) -%}
    {{ return([]) }}
{%- endmacro %}

{# A mart's index on its key (Materialize). #}
{% macro mart_indexes(key) -%}
    {{ return(adapter.dispatch('mart_indexes')(key)) }}
{%- endmacro %}

{% macro postgres__mart_indexes(key) -%}
    {{ return([]) }}
{%- endmacro %}

{% macro materialize__mart_indexes(key) -%}
    {{ return([{'columns': key}]) }}
{%- endmacro %}
