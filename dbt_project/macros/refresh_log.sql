{# One row per successful run: the instant its time-relative figures are as of (Postgres). #}
{% macro create_refresh_log() -%}
    {% if target.type != 'materialize' %}
        create schema if not exists intermediate;
        create table if not exists intermediate.refresh_log (
            invocation_id text primary key,
            as_of timestamptz not null,
            finished_at timestamptz not null default clock_timestamp()
        );
    {% endif %}
{%- endmacro %}

{% macro record_refresh(results) -%}
    {% if target.type != 'materialize' and execute %}
        {% set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error']) | list %}
        {% set ran_models = results | selectattr('node.resource_type', 'equalto', 'model') | list %}
        {% if not failed and ran_models %}
            insert into intermediate.refresh_log (invocation_id, as_of)
            values ('{{ invocation_id }}', {{ as_of() }})
            on conflict (invocation_id) do nothing;
        {% endif %}
    {% endif %}
{%- endmacro %}

{# The as_of of the last successful run, for the marts' as_of column. #}
{% macro last_as_of() -%}
    {% if target.type == 'materialize' %}
        null::timestamptz
    {% else %}
        (select as_of from intermediate.refresh_log order by finished_at desc limit 1)
    {% endif %}
{%- endmacro %}
