-- One name per domain: the reconciliation's schema is `reconciliation`, like its folders, its
-- Dagster group and its command (it was `recon`). Tables, indexes, triggers and grants move with
-- the schema; the two checked functions of 0006 name their tables in their bodies, so they are
-- created again here, unchanged but for the schema's name.
alter schema recon rename to reconciliation;

-- The reconciliation's own decisions on counts not yet decided: matched, auto_approved or
-- pending, decided_by 'auto'. `rows` is a JSON array of reconciliation.decisions-shaped objects (the
-- columns the caller may set: counts, numbers, decision, reason).
create or replace function reconciliation.open_decisions(rows jsonb) returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    bad record;
    added integer;
begin
    -- one decider at a time (core/reconciliation/counts.py LOCK_KEY): the order check below holds
    perform pg_advisory_xact_lock(7300201);
    -- parsed once, and counted: planned as 100 rows, a round of thousands would be checked
    -- against the pair's counts by a nested loop
    drop table if exists pg_temp._recon_opening;
    create temp table _recon_opening on commit drop as
    select * from jsonb_populate_recordset(null::reconciliation.decisions, coalesce(rows, '[]'));
    analyze pg_temp._recon_opening;

    select o.count_id, case
        when o.decision is null or o.decision not in ('matched', 'auto_approved', 'pending')
            then format('%s is not an opening decision', coalesce(o.decision, 'null'))
        when o.decided_by is distinct from 'auto'
            then 'an opening decision is the reconciliation''s own (decided_by auto)'
        when c.count_id is null then 'no such count'
        when (c.sku_id, c.location_id, c.counted_qty, c.counted_at)
                is distinct from (o.sku_id, o.location_id, o.counted_qty, o.counted_at)
            then 'its figures differ from the landed count'
        when o.variance_qty is distinct from o.counted_qty - o.system_qty
            then 'variance_qty is not counted_qty - system_qty'
        when (o.decision = 'matched') <> (o.variance_qty = 0)
            then 'matched is for a variance of 0, and only for it'
        when o.decision = 'auto_approved' and not (o.system_qty <> 0
                and abs(o.variance_qty) <= o.auto_approve_limit_pct * abs(o.system_qty))
            then 'the variance is outside the auto-approve limit'
        when o.adjustment_event_id is distinct from
                case when o.decision = 'auto_approved' then 'count-adjust:' || o.count_id end
            or o.adjustment_qty is distinct from
                case when o.decision = 'auto_approved' then o.variance_qty end
            then 'only an auto-approval posts, its variance, as count-adjust:<count_id>'
    end as problem
    into bad
    from pg_temp._recon_opening as o
    left join raw.physical_counts as c on c.count_id = o.count_id
    order by 2 nulls last
    limit 1;
    if bad.problem is not null then
        raise exception 'decision on count % refused: %', bad.count_id, bad.problem
            using errcode = 'check_violation';
    end if;

    -- in order: no earlier count of the pair still unsettled (undecided, or pending with no
    -- close; a count is settled once it has a decision other than pending)
    with unsettled as materialized (
        select e.count_id, e.sku_id, e.location_id, e.counted_at
        from raw.physical_counts as e
        where not exists (
            select from reconciliation.decisions as d
            where d.count_id = e.count_id and d.decision <> 'pending'
        )
    )
    select o.count_id, u.count_id as earlier into bad
    from pg_temp._recon_opening as o
    join unsettled as u on u.sku_id = o.sku_id and u.location_id = o.location_id
        and (u.counted_at, u.count_id) < (o.counted_at, o.count_id)
    limit 1;
    if bad.count_id is not null then
        raise exception 'decision on count % refused: the earlier count % of its pair is not settled',
            bad.count_id, bad.earlier using errcode = 'check_violation';
    end if;

    -- a count already opened fails decisions_opened_once_idx
    insert into reconciliation.decisions (
        count_id, decision, decided_by, reason, sku_id, location_id, abc_class, counted_qty,
        counted_at, system_qty, variance_qty, variance_pct, tolerance_pct,
        auto_approve_limit_pct, is_within_tolerance, adjustment_event_id, adjustment_qty
    )
    select
        count_id, decision, decided_by, reason, sku_id, location_id, abc_class, counted_qty,
        counted_at, system_qty, variance_qty, variance_pct, tolerance_pct,
        auto_approve_limit_pct, is_within_tolerance, adjustment_event_id, adjustment_qty
    from pg_temp._recon_opening
    order by counted_at, count_id;
    get diagnostics added = row_count;
    drop table pg_temp._recon_opening;
    return added;
end
$$;

-- A person closes a pending count: approved (its variance as it stands now: `as_it_stands` is
-- the count's row of marts.count_variances) or rejected, with who and why. Returns its id.
create or replace function reconciliation.close_decision(
    count_id text, decision text, decided_by text, reason text, as_it_stands jsonb
) returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    opened reconciliation.decisions;
    seen reconciliation.decisions;
    states text[];
    posts boolean;
    added bigint;
begin
    perform pg_advisory_xact_lock(7300201);
    if close_decision.decision not in ('approved', 'rejected') then
        raise exception 'decision on count % refused: % is not a closing decision',
            close_decision.count_id, close_decision.decision using errcode = 'check_violation';
    end if;
    if nullif(trim(close_decision.decided_by), '') is null
        or nullif(trim(close_decision.reason), '') is null then
        raise exception 'decision on count % refused: it needs who and why',
            close_decision.count_id using errcode = 'check_violation';
    end if;
    if trim(close_decision.decided_by) = 'auto' then
        raise exception 'decision on count % refused: auto is the reconciliation''s own name',
            close_decision.count_id using errcode = 'check_violation';
    end if;
    select array_agg(d.decision order by d.decision_id) into states
    from reconciliation.decisions as d where d.count_id = close_decision.count_id;
    if states is distinct from array['pending'] then
        raise exception 'decision on count % refused: it is not pending (%)',
            close_decision.count_id, coalesce(array_to_string(states, ' then '), 'undecided')
            using errcode = 'check_violation';
    end if;
    select * into opened from reconciliation.decisions as d
    where d.count_id = close_decision.count_id;
    seen := jsonb_populate_record(null::reconciliation.decisions, as_it_stands);
    if seen.count_id is distinct from opened.count_id
        or seen.variance_qty is distinct from opened.counted_qty - seen.system_qty then
        raise exception 'decision on count % refused: the figures are not this count''s',
            close_decision.count_id using errcode = 'check_violation';
    end if;
    posts := close_decision.decision = 'approved' and seen.variance_qty <> 0;
    insert into reconciliation.decisions (
        count_id, decision, decided_by, reason, sku_id, location_id, abc_class, counted_qty,
        counted_at, system_qty, variance_qty, variance_pct, tolerance_pct,
        auto_approve_limit_pct, is_within_tolerance, adjustment_event_id, adjustment_qty
    )
    values (
        opened.count_id, close_decision.decision, trim(close_decision.decided_by),
        trim(close_decision.reason), opened.sku_id, opened.location_id, seen.abc_class,
        opened.counted_qty, opened.counted_at, seen.system_qty, seen.variance_qty,
        seen.variance_pct, seen.tolerance_pct, seen.auto_approve_limit_pct,
        seen.is_within_tolerance,
        case when posts then 'count-adjust:' || opened.count_id end,
        case when posts then seen.variance_qty end
    )
    returning decision_id into added;
    return added;
end
$$;

revoke all on function reconciliation.open_decisions(jsonb) from public;
revoke all on function reconciliation.close_decision(text, text, text, text, jsonb) from public;
