{#
    A run's bookkeeping on Postgres (dbt_project.yml's on-run-start and on-run-end):
    - the refresh lease (ops.refresh_lease, migrations/0007_state_writers.sql): one writer of the incrementally kept
      state at a time. A platform process (`inventory refresh`, the stream worker, Dagster, the
      nightly validation) takes it before it starts dbt and names itself in
      INVENTORY_REFRESH_LEASE; a plain `dbt run/build` takes it here, waiting for the holder.
      Every model checks it (check_refresh_lease, a pre-hook), so no model writes beside another
      writer's;
    - the clock: the instant the marts' time-relative figures are as of (moved only by a run
      that builds every state model, move_the_clock), and the run's number (run_seq), which
      state models stamp on the rows they change so that a later model can find every change it
      has not consumed yet, whatever run made it;
    - state_marks: per state model, the run and instant it last completed at, written in the
      model's own transaction (record_state_mark, a post-hook);
    - refresh_log: one row per successful run.
#}

{% macro writes_state() -%}
    {{ return(target.type != 'materialize' and flags.WHICH in ('run', 'build')) }}
{%- endmacro %}

{#
    A run beside the live state (var schema_prefix: the nightly validation's shadow_, a
    deployment's deploy_) writes a copy of the state with a clock and marks of its own: it takes
    no lease and never moves the live clock.
#}
{% macro writes_live_state() -%}
    {{ return(writes_state() and not var('schema_prefix', '')) }}
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
        {% if writes_live_state() %}
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
        {% if writes_live_state() %}
        {{ move_the_clock() }}
        {% elif writes_state() %}
        {{ set_the_clock_beside_live() }}
        {% endif %}
    {% endif %}
{%- endmacro %}

{#
    The one clock of the live state (README: "One clock"). It moves only with a run that brings
    every state model (the models dbt stores: incremental or table) to the new instant: a run
    that builds all of them (a plain `dbt run` or `dbt build` of the project), or the platform's
    refresh, which asks for its instant on the lease and skips only models whose figures do not
    depend on it. Any other run (`dbt run -s one_model`, a Dagster run of some assets) computes at
    the clock's instant and leaves it, so that no mart shows an instant its state was not
    computed at; given --vars as_of at another instant it fails, saying why. Every run that
    writes the state gets a new number all the same.
#}
{% macro move_the_clock() -%}
    {%- set stored = [] -%}
    {#- the graph is empty while dbt parses the hook -#}
    {%- for node in (graph.nodes.values() if execute else []) -%}
        {%- if node.resource_type == 'model' and node.config.materialized in ('incremental', 'table') -%}
            {%- do stored.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set built = stored | select('in', selected_resources) | list -%}
    {%- set builds_every_one = built | length == stored | length -%}
    {%- set requested -%}
        (select requested_as_of from ops.refresh_lease where holder = '{{ refresh_lease_holder() }}')
    {%- endset -%}
    {% if var('as_of', none) and not builds_every_one %}
        do $clock$
        begin
            if {{ requested }} is null and exists (
                select from {{ state_schema() }}.refresh_clock
                where as_of <> '{{ var('as_of') }}'::timestamptz
            ) then
                raise exception 'as_of % would mix instants: the marts are as of % (the clock), and this run builds {{ built | length }} of the {{ stored | length }} state models, so it cannot move the clock',
                    '{{ var('as_of') }}', (select as_of from {{ state_schema() }}.refresh_clock)
                    using hint = 'build every state model at that instant (dbt run --vars ''{as_of: ...}'' without --select, or inventory refresh --as-of ...), or leave as_of out to compute at the clock''s instant';
            end if;
        end
        $clock$;
    {% endif %}
    {# --vars as_of, else the instant the holder asked for (inventory refresh --as-of), else the
       run's start #}
    insert into {{ state_schema() }}.refresh_clock as c (as_of, run_seq)
    values (
        {% if var('as_of', none) -%}
        '{{ var('as_of') }}'::timestamptz
        {%- else -%}
        coalesce({{ requested }}, '{{ run_started_at.isoformat() }}'::timestamptz)
        {%- endif %},
        1
    )
    on conflict (is_singleton) do update
    set as_of = {% if builds_every_one %}excluded.as_of{% else %}case when {{ requested }} is not null then excluded.as_of else c.as_of end{% endif %},
        run_seq = c.run_seq + 1;
{%- endmacro %}

{#
    The clock of a run beside the live state: as of --vars as_of, else the live clock's instant,
    and numbered after the live runs (one less while it holds no lease: a live run may be under
    way). A deployment swaps the tables it built beside into the live state with their marks
    (core/inventory/deploy.py), and a mark must count in the live runs' numbers, never past a
    live change that its model has not read.
#}
{% macro set_the_clock_beside_live() -%}
    {%- set live_clock = adapter.get_relation(target.database, live_state_schema(), 'refresh_clock') if execute else none -%}
    insert into {{ state_schema() }}.refresh_clock as c (as_of, run_seq)
    select
        coalesce(
            {{ "'" ~ var('as_of') ~ "'::timestamptz" if var('as_of', none) else 'null' }},
            live.as_of,
            '{{ run_started_at.isoformat() }}'::timestamptz
        ),
        greatest(coalesce(live.run_seq, 0){{ ' - 1' if not env_var('INVENTORY_REFRESH_LEASE', '') }}, 1)
    from (select 1) as one
    left join (
        {% if live_clock %}
        select as_of, run_seq from {{ live_state_schema() }}.refresh_clock
        {% else %}
        select null::timestamptz as as_of, null::bigint as run_seq
        {% endif %}
    ) as live on true
    on conflict (is_singleton) do update
    set as_of = excluded.as_of, run_seq = greatest(c.run_seq + 1, excluded.run_seq);
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
    {% if writes_live_state() and execute %}
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
        {% if writes_live_state() and not env_var('INVENTORY_REFRESH_LEASE', '') %}
            select ops.release_refresh_lease('{{ refresh_lease_holder() }}');
        {% endif %}
    {% endif %}
{%- endmacro %}
