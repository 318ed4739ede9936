{#
    Custom schemas are used as given (marts, not public_marts): they are the public interface.
    The var schema_prefix builds the whole project beside it, e.g. shadow_marts for the nightly
    comparison of a full rebuild with the incrementally kept marts.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ var('schema_prefix', '') ~ (custom_schema_name | trim if custom_schema_name is not none else target.schema) }}
{%- endmacro %}

{# The schema of the run's own bookkeeping (the refresh clock and log). #}
{% macro state_schema() -%}
    {{ var('schema_prefix', '') ~ 'intermediate' }}
{%- endmacro %}
