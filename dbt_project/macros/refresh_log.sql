{# One row per successful run: the instant its time-relative figures are as of (Postgres). #}
{% macro create_refresh_log() -%}
    {% if target.type != 'materialize' %}
        create schema if not exists {{ state_schema() }};
        create table if not exists {{ state_schema() }}.refresh_log (
            invocation_id text primary key,
            as_of timestamptz not null,
            finished_at timestamptz not null default clock_timestamp()
        );
        {{ refresh_clock_ddl() }};
        {% if flags.WHICH in ('run', 'build') %}
        {# a requested instant (inventory refresh --as-of) wins once; else the run's start #}
        insert into {{ state_schema() }}.refresh_clock (as_of, is_requested)
        values ('{{ var('as_of', none) or run_started_at.isoformat() }}', false)
        on conflict (is_singleton) do update
        set as_of = {% if var('as_of', none) %}excluded.as_of{% else %}case
                when refresh_clock.is_requested then refresh_clock.as_of else excluded.as_of
            end{% endif %},
            is_requested = false;
        {% endif %}
    {% endif %}
{%- endmacro %}

{# One row: the as_of of the current (or last) run. transform.py writes a request into it. #}
{% macro refresh_clock_ddl() -%}
    create table if not exists {{ state_schema() }}.refresh_clock (
        as_of timestamptz not null,
        is_requested boolean not null default false,
        is_singleton boolean primary key default true check (is_singleton)
    )
{%- endmacro %}

{% macro record_refresh(results) -%}
    {% if target.type != 'materialize' and execute and flags.WHICH in ('run', 'build') %}
        {% set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error']) | list %}
        {% set ran_models = results | selectattr('node.resource_type', 'equalto', 'model') | list %}
        {% if not failed and ran_models %}
            insert into {{ state_schema() }}.refresh_log (invocation_id, as_of)
            values ('{{ invocation_id }}', {{ as_of() }})
            on conflict (invocation_id) do nothing;
        {% endif %}
    {% endif %}
{%- endmacro %}
