-- One writer of the incrementally kept state at a time, whoever starts it: `inventory refresh`,
-- the stream worker, Dagster's dbt runs, the nightly validation, or a plain `dbt run/build`.
--
-- A session advisory lock cannot serve plain dbt: dbt opens a connection per model and closes
-- it after, so a lock taken in a hook would be gone before the first model. Instead the writer
-- holds a lease, a row here that is live while
--   * holder_pid's backend lives (a platform process keeps one connection open for its whole
--     refresh: a killed process frees the lease with its connection), or
--   * expires_at is ahead (plain dbt: every model renews it, so a killed `dbt` frees it within
--     the TTL).
-- dbt's own hooks (macros/refresh_log.sql) take the lease for a plain dbt run, or check that
-- the platform process that started them holds it (INVENTORY_REFRESH_LEASE names its holder).

create table ops.refresh_lease (
    is_singleton boolean primary key default true check (is_singleton),
    holder text not null,
    holder_pid integer,
    expires_at timestamptz,
    taken_at timestamptz not null default clock_timestamp(),
    -- the instant a platform holder asked its run to be as of (`inventory refresh --as-of`)
    requested_as_of timestamptz,
    check (holder_pid is not null or expires_at is not null)
);

create function ops.refresh_lease_is_live(
    holder_pid integer, expires_at timestamptz, taken_at timestamptz
) returns boolean
language sql stable
as $$
    select coalesce(expires_at > clock_timestamp(), false)
        or exists (
            -- the backend that took it, not a later one that reused its pid
            select from pg_stat_activity as a
            where a.pid = holder_pid and a.backend_start <= taken_at
        )
$$;

-- Take the lease for `holder` if it is free, expired or already `holder`'s; return its holder
-- afterwards (`holder` when taken, else whoever has it, with since when).
create function ops.try_refresh_lease(
    holder text, holder_pid integer, ttl interval default null
) returns table (lease_holder text, held_since timestamptz, is_taken boolean)
language plpgsql
as $$
begin
    -- a plain read first: a holder renewing its lease keeps the row locked for a model's
    -- length, and a writer that does not want to wait must not queue behind it
    if exists (
        select from ops.refresh_lease as l
        where l.holder <> try_refresh_lease.holder
            and ops.refresh_lease_is_live(l.holder_pid, l.expires_at, l.taken_at)
    ) then
        return query select l.holder, l.taken_at, false from ops.refresh_lease as l;
        return;
    end if;
    insert into ops.refresh_lease as l (holder, holder_pid, expires_at, taken_at)
    values (holder, holder_pid, clock_timestamp() + ttl, clock_timestamp())
    on conflict (is_singleton) do update
    set holder = excluded.holder,
        holder_pid = excluded.holder_pid,
        expires_at = excluded.expires_at,
        requested_as_of = null,
        taken_at = case when l.holder = excluded.holder then l.taken_at else excluded.taken_at end
    where l.holder = excluded.holder
        or not ops.refresh_lease_is_live(l.holder_pid, l.expires_at, l.taken_at);
    return query
        select l.holder, l.taken_at, l.holder = try_refresh_lease.holder
        from ops.refresh_lease as l;
end
$$;

-- For a plain dbt run: take the lease, waiting up to `wait_for` for the current holder; fail
-- with who holds it when it does not come free.
create function ops.take_refresh_lease(holder text, ttl interval, wait_for interval)
returns void
language plpgsql
as $$
declare
    giving_up constant timestamptz := clock_timestamp() + wait_for;
    current record;
begin
    loop
        select * into current from ops.try_refresh_lease(holder, null, ttl);
        exit when current.is_taken;
        if clock_timestamp() >= giving_up then
            raise exception 'the incremental state is being refreshed by % (since %); waited %',
                current.lease_holder, current.held_since, wait_for
                using hint = 'only one refresh may write the state at a time: run again when it'
                    ' is done (`psql -c "table ops.refresh_lease"` shows who holds it)';
        end if;
        perform pg_sleep(0.5);
    end loop;
end
$$;

-- Every model of a run checks that its run still holds the lease (and renews a plain dbt's):
-- a run whose lease lapsed and was taken by another writer stops instead of writing beside it.
create function ops.check_refresh_lease(holder text, ttl interval) returns void
language plpgsql
as $$
declare
    current record;
begin
    update ops.refresh_lease as l
    set expires_at = case when l.expires_at is null then null else clock_timestamp() + ttl end
    where l.holder = check_refresh_lease.holder
    returning l.* into current;
    if not found then
        raise exception 'this run (%) does not hold the refresh lease: %', holder, coalesce(
            (select format('%s holds it since %s', l.holder, l.taken_at) from ops.refresh_lease l),
            'nobody holds it'
        ) using hint = 'start refreshes with `inventory refresh`, or plain `dbt run/build`';
    end if;
end
$$;

create function ops.release_refresh_lease(holder text) returns void
language sql
as $$
    delete from ops.refresh_lease as l where l.holder = release_refresh_lease.holder
$$;

-- Replacing a relation that others read, without a moment where it is missing.
--
-- dbt's own view and table materializations rename the old relation away and drop it with
-- CASCADE after their commit: every view built on it (the marts on the state tables, the marts
-- on each other) is dropped with it and missing until dbt gets to it, so the worker, the ERP feed
-- and a planner's query fail with "does not exist" during a deploy. These functions do the whole
-- replacement in the caller's transaction: a reader waits on the lock for the moment it takes,
-- then finds the new relation under the same name, with every view on it in place.

-- Views built on `rel`, directly or through other views, in an order they can be created in.
create function ops.dependent_views(rel regclass)
returns table (view_name text, definition text, depth integer)
language sql stable
-- names in the definitions come out schema-qualified whatever the caller's search_path
set search_path = pg_catalog
as $$
    with recursive dependents (oid, depth) as (
        select r.ev_class, 1
        from pg_depend as d
        join pg_rewrite as r on r.oid = d.objid
        where d.classid = 'pg_rewrite'::regclass
            and d.refclassid = 'pg_class'::regclass
            and d.refobjid = rel
            and r.ev_class <> rel
        union
        select r.ev_class, v.depth + 1
        from dependents as v
        join pg_depend as d on d.refobjid = v.oid and d.refclassid = 'pg_class'::regclass
        join pg_rewrite as r on r.oid = d.objid and d.classid = 'pg_rewrite'::regclass
        where r.ev_class <> v.oid
    )
    select oid::regclass::text, pg_get_viewdef(oid), max(depth)
    from dependents
    group by oid
    order by max(depth), 1
$$;

-- Put `replacement` (a table or view just built) in the place of `target`, with the views that
-- were built on `target` re-created on it. A view that no longer fits (it reads a column that
-- is gone) fails the whole replacement: nothing changes, and the error names the view.
create function ops.swap_in(target text, replacement text) returns void
language plpgsql
as $$
declare
    old regclass := to_regclass(target);
    saved jsonb;
    dependent record;
begin
    -- one swap at a time (dbt runs two models at once): two swaps locking views they share
    -- would deadlock each other
    perform pg_advisory_xact_lock(7300005);
    if old is not null then
        select coalesce(jsonb_agg(to_jsonb(v) order by v.depth, v.view_name), '[]')
        into saved
        from ops.dependent_views(old) as v;
        -- the views on it locked in the order a reader takes them (the outermost first, then
        -- what it reads), so a reader and the swap wait for each other instead of deadlocking;
        -- a no-op ALTER VIEW locks the view alone (LOCK TABLE on a view locks its tables too)
        for dependent in
            select * from jsonb_to_recordset(saved) as x(view_name text, depth integer)
            order by depth desc
        loop
            execute format('alter view %s reset (security_barrier)', dependent.view_name);
        end loop;
        execute format(
            'drop %s %s cascade',
            case (select relkind from pg_class where oid = old)
                when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
            old
        );
    end if;
    execute format(
        'alter %s %s rename to %I',
        case (select relkind from pg_class where oid = replacement::regclass)
            when 'v' then 'view' else 'table' end,
        replacement,
        (parse_ident(target))[cardinality(parse_ident(target))]
    );
    for dependent in
        select * from jsonb_to_recordset(coalesce(saved, '[]')) as x(view_name text, definition text, depth integer)
        order by depth, view_name
    loop
        begin
            execute format('create view %s as %s', dependent.view_name, dependent.definition);
        exception when others then
            raise exception 'replacing % would break the view % built on it: %',
                target, dependent.view_name, sqlerrm
                using hint = 'deploy the changed models together (dbt build -s model+), or '
                    'change the view first';
        end;
    end loop;
end
$$;

-- Create or replace view `target` as `definition`. In place when its columns keep their names
-- and types (the views on it are untouched); otherwise built beside it and swapped in.
create function ops.replace_view(target text, definition text) returns void
language plpgsql
as $$
declare
    old regclass := to_regclass(target);
    parts text[] := parse_ident(target);
    beside text;
begin
    if old is not null and (select relkind from pg_class where oid = old) = 'v' then
        begin
            execute format('create or replace view %s as %s', target, definition);
            return;
        exception when invalid_table_definition then
            -- a column renamed, dropped, retyped or moved: CREATE OR REPLACE cannot do that
            null;
        end;
    end if;
    if old is null then
        execute format('create view %s as %s', target, definition);
        return;
    end if;
    parts[cardinality(parts)] := parts[cardinality(parts)] || '__dbt_tmp';
    beside := (select string_agg(quote_ident(p), '.' order by i) from unnest(parts) with ordinality as u(p, i));
    execute format('drop view if exists %s', beside);
    execute format('create view %s as %s', beside, definition);
    perform ops.swap_in(target, beside);
end
$$;
