-- Runs once, on an empty data directory, as the superuser in database `inventory` (the postgres
-- image runs /docker-entrypoint-initdb.d/*.sql with psql). The landing tables themselves come
-- later, from the ingest CLI's migrations (`inventory db migrate`), so everything here is set
-- for schema `raw` as a whole and applies to tables created after it.

\set ON_ERROR_STOP on
-- the password comes from the container's environment (compose.yaml), never from this file
\getenv replication_password LANDING_PG_PASSWORD

create schema if not exists raw;

-- The user Materialize replicates as: read the landing tables, stream their changes.
create role materialize with login replication password :'replication_password';
grant usage on schema raw to materialize;
grant select on all tables in schema raw to materialize;
alter default privileges in schema raw grant select on tables to materialize;

-- Materialize needs every landing table at replica identity full (whole old rows in the WAL);
-- the migrations create them, so each new table in raw gets it as it is created.
create function public.raw_tables_replica_identity_full() returns event_trigger
language plpgsql as $$
declare
    created record;
begin
    for created in
        select object_identity
        from pg_event_trigger_ddl_commands()
        where command_tag = 'CREATE TABLE' and schema_name = 'raw'
    loop
        execute format('alter table %s replica identity full', created.object_identity);
    end loop;
end
$$;

create event trigger raw_tables_replica_identity_full
    on ddl_command_end
    when tag in ('CREATE TABLE')
    execute function public.raw_tables_replica_identity_full();

-- Every table in raw, present and future; the Materialize source picks the landing tables.
create publication inventory_landing for tables in schema raw;
