{#
    The instant time-relative figures are computed as of: --vars as_of if given, else the clock
    that the run's start hook sets (the instant `inventory refresh` asked for, or the run's
    start). Reading it from a table rather than a var keeps dbt's partial parsing: a new var on
    every refresh would re-parse the whole project, about a second each time.
#}
{% macro as_of() -%}
    {{ return(adapter.dispatch('as_of')()) }}
{%- endmacro %}

{#- A view reads the clock when it is queried, so it follows every later refresh: --vars as_of
    is written into what a run computes and stores (and into unit tests), never into a view. -#}
{% macro postgres__as_of() -%}
    {%- if var('as_of', none) and not (model is defined and model.resource_type == 'model'
        and model.config.materialized == 'view') -%}
        '{{ var('as_of') }}'::timestamptz
    {%- else -%}
        (select as_of from {{ state_schema() }}.refresh_clock)
    {%- endif -%}
{%- endmacro %}

{# Materialize has no fixed instant: a view is always as of the moment it is read. #}
{% macro materialize__as_of() -%}
    null::timestamptz
{%- endmacro %}

{#
    `ts` lies in the half-open window (as_of - days, as_of]. On Materialize this is a temporal
    filter: rows enter and leave the window as mz_now() advances.
#}
{% macro in_window(ts, days) -%}
    {{ return(adapter.dispatch('in_window')(ts, days)) }}
{%- endmacro %}

{% macro postgres__in_window(ts, days) -%}
    ({{ ts }} > {{ as_of() }} - interval '{{ days }} days' and {{ ts }} <= {{ as_of() }})
{%- endmacro %}

{% macro materialize__in_window(ts, days) -%}
    (mz_now() >= {{ ts }} and mz_now() < {{ ts }} + interval '{{ days }} days')
{%- endmacro %}

{# `ts` is at or before as_of. On Materialize a temporal filter: rows enter as mz_now() passes. #}
{% macro at_or_before_as_of(ts) -%}
    {{ return(adapter.dispatch('at_or_before_as_of')(ts)) }}
{%- endmacro %}

{% macro postgres__at_or_before_as_of(ts) -%}
    {{ ts }} <= {{ as_of() }}
{%- endmacro %}

{% macro materialize__at_or_before_as_of(ts) -%}
    mz_now() >= {{ ts }}
{%- endmacro %}

{#
    The as_of of a figure that is current on every read (inventory_position): on Postgres the
    instant of the read; on Materialize none, as for as_of().
#}
{% macro read_as_of() -%}
    {{ return(adapter.dispatch('read_as_of')()) }}
{%- endmacro %}

{% macro postgres__read_as_of() -%}
    now()
{%- endmacro %}

{% macro materialize__read_as_of() -%}
    null::timestamptz
{%- endmacro %}

{# True when this run may update the stored state instead of rebuilding it (Postgres only). #}
{% macro incremental_run() -%}
    {{ return(target.type != 'materialize' and is_incremental()) }}
{%- endmacro %}

{# Truncate to an hour or a day in UTC, whatever the session's time zone. #}
{% macro utc_trunc(unit, ts) -%}
    (date_trunc('{{ unit }}', {{ ts }} at time zone 'UTC') at time zone 'UTC')
{%- endmacro %}

{# `ts` is after as_of (not yet). On Materialize a temporal filter: rows leave as mz_now() passes. #}
{% macro after_as_of(ts) -%}
    {{ return(adapter.dispatch('after_as_of')(ts)) }}
{%- endmacro %}

{% macro postgres__after_as_of(ts) -%}
    {{ ts }} > {{ as_of() }}
{%- endmacro %}

{% macro materialize__after_as_of(ts) -%}
    mz_now() < {{ ts }}
{%- endmacro %}
