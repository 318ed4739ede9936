{#
    Custom schemas are used as given (marts, not public_marts): they are the public interface.
    The var schema_prefix builds the whole project beside it, e.g. shadow_marts for the nightly
    comparison of a full rebuild with the incrementally kept marts, deploy_marts for a deployment
    of changed models (core/inventory/deploy.py). On Materialize, `--vars 'deploy: true'` builds
    into <schema>_dbt_deploy, which dbt-materialize's deploy_promote swaps with <schema>
    (infra/README.md, "Deploying changes").
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set deploy_suffix = '_dbt_deploy' if target.type == 'materialize' and var('deploy', false) else '' -%}
    {{ var('schema_prefix', '') ~ (custom_schema_name | trim if custom_schema_name is not none else target.schema) ~ deploy_suffix }}
{%- endmacro %}

{# The schema of the live state's bookkeeping (the refresh clock, log and marks). #}
{% macro live_state_schema() -%}
    intermediate
{%- endmacro %}

{# The schema of this run's own bookkeeping: the live one, or its copy beside it. #}
{% macro state_schema() -%}
    {{ var('schema_prefix', '') ~ live_state_schema() }}
{%- endmacro %}
