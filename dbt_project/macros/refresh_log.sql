{#
    A run's bookkeeping on Postgres (dbt_project.yml's on-run-start and on-run-end):
    - the refresh lease (ops.refresh_lease, migrations/0007_state_writers.sql): one writer of the incrementally kept
      state at a time. A platform process (`inventory refresh`, the stream worker, Dagster, the
      nightly validation) takes it before it starts dbt and names itself in
      INVENTORY_REFRESH_LEASE; a plain `dbt run/build` takes it here, waiting for the holder.
      Every model checks it (check_refresh_lease, a pre-hook), so no model writes beside another
      writer's;
    - the clock: the instant this run's time-relative figures are as of, and the run's number
      (run_seq), which state models stamp on the rows they change so that a later model can find
      every change it has not consumed yet, whatever run made it;
    - state_marks: per state model, the run and instant it last completed at, written in the
      model's own transaction (record_state_mark, a post-hook);
    - refresh_log: one row per successful run.
#}

{% macro writes_state() -%}
    {{ return(target.type != 'materialize' and flags.WHICH in ('run', 'build')) }}
{%- endmacro %}

{# Who holds the lease for this run: the platform process that started it, or this dbt. #}
{% macro refresh_lease_holder() -%}
    {{ return(env_var('INVENTORY_REFRESH_LEASE', '') or 'plain dbt ' ~ flags.WHICH ~ ' (invocation ' ~ invocation_id ~ ')') }}
{%- endmacro %}

{% macro refresh_lease_ttl() -%}
    interval '{{ var('refresh_lease_ttl_minutes', 5) }} minutes'
{%- endmacro %}

{% macro create_refresh_log() -%}
    {% if target.type != 'materialize' %}
        {% if writes_state() %}
            {% if env_var('INVENTORY_REFRESH_LEASE', '') %}
        select ops.check_refresh_lease('{{ refresh_lease_holder() }}', {{ refresh_lease_ttl() }});
            {% else %}
        select ops.take_refresh_lease(
            '{{ refresh_lease_holder() }}',
            {{ refresh_lease_ttl() }},
            interval '{{ var('refresh_lease_wait_seconds', 60) }} seconds'
        );
            {% endif %}
        {% endif %}
        create schema if not exists {{ state_schema() }};
        create table if not exists {{ state_schema() }}.refresh_log (
            invocation_id text primary key,
            as_of timestamptz not null,
            finished_at timestamptz not null default clock_timestamp()
        );
        {{ refresh_clock_ddl() }};
        create table if not exists {{ state_schema() }}.state_marks (
            model text primary key,
            run_seq bigint not null,
            as_of timestamptz not null,
            finished_at timestamptz not null default clock_timestamp()
        );
        {% if writes_state() %}
        {# --vars as_of, else the instant the holder asked for (inventory refresh --as-of), else
           the run's start #}
        insert into {{ state_schema() }}.refresh_clock (as_of, run_seq)
        values (
            {% if var('as_of', none) -%}
            '{{ var('as_of') }}'::timestamptz
            {%- else -%}
            coalesce(
                (select requested_as_of from ops.refresh_lease
                 where holder = '{{ refresh_lease_holder() }}'),
                '{{ run_started_at.isoformat() }}'::timestamptz
            )
            {%- endif %},
            1
        )
        on conflict (is_singleton) do update
        set as_of = excluded.as_of, run_seq = refresh_clock.run_seq + 1;
        {% endif %}
    {% endif %}
{%- endmacro %}

{# One row: the as_of and number of the current (or last) run. #}
{% macro refresh_clock_ddl() -%}
    create table if not exists {{ state_schema() }}.refresh_clock (
        as_of timestamptz not null,
        is_singleton boolean primary key default true check (is_singleton)
    );
    alter table {{ state_schema() }}.refresh_clock
        add column if not exists run_seq bigint not null default 0
{%- endmacro %}

{# The number of the current run (the clock's), stamped on the state rows a model changes. #}
{% macro run_seq() -%}
    {{ return(adapter.dispatch('run_seq')()) }}
{%- endmacro %}

{% macro postgres__run_seq() -%}
    (select run_seq from {{ state_schema() }}.refresh_clock)
{%- endmacro %}

{# Materialize has no runs (and no clock table): its views change as the inputs do. #}
{% macro materialize__run_seq() -%}
    null::bigint
{%- endmacro %}

{#
    What this model's last completed run recorded (state_marks): `run_seq` or `as_of`. A state
    model derives its next work from its own mark, never from "what the previous run did", so
    a run killed between two models leaves nothing unconsumed: the later model's mark stays
    behind and its next run takes up every change since.
#}
{% macro state_mark(column) -%}
    (select {{ column }} from {{ state_schema() }}.state_marks where model = '{{ this.identifier }}')
{%- endmacro %}

{# pre-hook of every model: the run still holds the lease (a plain dbt's is renewed). #}
{% macro check_refresh_lease() -%}
    {% if writes_state() and execute %}
    select ops.check_refresh_lease('{{ refresh_lease_holder() }}', {{ refresh_lease_ttl() }})
    {% endif %}
{%- endmacro %}

{# post-hook of the state models, inside their transaction: how far they have consumed. #}
{% macro record_state_mark() -%}
    {% if writes_state() and execute and model.config.materialized == 'incremental' %}
    insert into {{ state_schema() }}.state_marks (model, run_seq, as_of)
    values ('{{ this.identifier }}', {{ run_seq() }}, {{ as_of() }})
    on conflict (model) do update
    set run_seq = excluded.run_seq, as_of = excluded.as_of, finished_at = clock_timestamp()
    {% endif %}
{%- endmacro %}

{% macro record_refresh(results) -%}
    {% if writes_state() and execute %}
        {% set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error']) | list %}
        {% set ran_models = results | selectattr('node.resource_type', 'equalto', 'model') | list %}
        {% if not failed and ran_models %}
            insert into {{ state_schema() }}.refresh_log (invocation_id, as_of)
            values ('{{ invocation_id }}', {{ as_of() }})
            on conflict (invocation_id) do nothing;
        {% endif %}
        {% if not env_var('INVENTORY_REFRESH_LEASE', '') %}
            select ops.release_refresh_lease('{{ refresh_lease_holder() }}');
        {% endif %}
    {% endif %}
{%- endmacro %}
