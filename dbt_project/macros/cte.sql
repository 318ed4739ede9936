{#
    How Postgres plans a CTE, for a model that runs on both engines. Postgres reads a CTE used
    more than once in full, once, and one used once as part of the query around it:
    - `not_materialized()` keeps an import CTE that is read several times part of each read, so
      that each stays an index range or lookup of its own;
    - `materialized()` makes a logic CTE that later steps read several times computed once,
      where Postgres would inline it and compute it again for each.
    Materialize plans a view's CTEs as one dataflow, and has neither keyword.
#}

{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized')()) }}
{%- endmacro %}

{% macro postgres__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro materialize__not_materialized() -%}
{%- endmacro %}

{% macro materialized() -%}
    {{ return(adapter.dispatch('materialized')()) }}
{%- endmacro %}

{% macro postgres__materialized() -%}
    materialized
{%- endmacro %}

{% macro materialize__materialized() -%}
{%- endmacro %}
