-- Operations: what the stream worker has reached, and the alerts Dagster raised. Kept apart from
-- the landing schema so that dbt's full rebuilds and the ERP reader never touch them.

create schema ops;

-- One row per worker name: its heartbeat and how far it has carried the events.
create table ops.stream_progress (
    worker_name text primary key,
    pid integer not null,
    started_at timestamptz not null,
    heartbeat_at timestamptz not null,
    committed_seq bigint not null,     -- the newest ingest_seq committed when the tick began
    refreshed_seq bigint not null,     -- the newest ingest_seq counted in the marts' stored state
    synced_seq bigint not null,        -- the newest ingest_seq the ERP feed reflects
    last_refresh_at timestamptz,
    last_refresh_seconds double precision,
    refreshes bigint not null default 0,
    requests_opened bigint not null default 0,
    requests_closed bigint not null default 0,
    last_error text
);

-- Append-only: an alert is raised once per episode and never edited.
create table ops.alerts (
    alert_id bigint generated always as identity primary key,
    raised_at timestamptz not null default now(),
    kind text not null,
    subject text not null,
    message text not null,
    details jsonb not null default '{}'
);
create index alerts_kind_subject_idx on ops.alerts (kind, subject, raised_at desc);

-- A failed structural check holds the ERP feed until the check passes again: rows here are
-- what the worker reads before each sync.
create table ops.sink_holds (
    check_name text primary key,
    held_since timestamptz not null default now(),
    details jsonb not null default '{}'
);
