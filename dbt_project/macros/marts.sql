{#
    Where a mart's query differs between the engines. On Postgres the state tables are as of the
    last refresh and hold every event ingested up to it, whatever its event_ts; on Materialize
    the dataflows keep them current, and as_of is always now.
#}

{#
    The position totals (`totals`, int_position_totals' columns but through_seq) at the moment
    of the read. Postgres: plus the few events ingested since the totals were last brought up to
    date, so a read never waits for a refresh.
#}
{% macro position_totals_now(totals) -%}
    {{ return(adapter.dispatch('position_totals_now')(totals)) }}
{%- endmacro %}

{% macro postgres__position_totals_now(totals) -%}
    {%- set events_since_refresh -%}
        select * from {{ ref('stg_landing__wms_events') }}
        where {{ ingest_seq_after(
            '(select coalesce(max(through_seq), 0) from ' ~ totals ~ ')',
            ref('stg_landing__wms_events'),
        ) }}
    {%- endset %}
    select
        coalesce(t.sku_id, s.sku_id) as sku_id,
        coalesce(t.location_id, s.location_id) as location_id,
        coalesce(t.on_hand_qty, 0) + coalesce(s.on_hand_qty, 0) as on_hand_qty,
        coalesce(t.held_qty, 0) + coalesce(s.held_qty, 0) as held_qty,
        coalesce(t.reserved_qty, 0) + coalesce(s.reserved_qty, 0) as reserved_qty,
        coalesce(t.receipt_qty, 0) + coalesce(s.receipt_qty, 0) as receipt_qty,
        coalesce(t.receipt_value, 0) + coalesce(s.receipt_value, 0) as receipt_value,
        coalesce(t.receipt_count, 0) + coalesce(s.receipt_count, 0) as receipt_count,
        coalesce(t.issue_count, 0) + coalesce(s.issue_count, 0) as issue_count,
        coalesce(t.hold_count, 0) + coalesce(s.hold_count, 0) as hold_count,
        greatest(t.last_movement_ts, s.last_movement_ts) as last_movement_ts
    from {{ totals }} as t
    -- the events since the refresh, summed per pair (subqueries, not a WITH: Postgres plans
    -- them as part of the mart's query)
    full outer join (
        {{ position_sums('(' ~ events_since_refresh ~ ') as events_since_refresh') }}
    ) as s
        on s.sku_id = t.sku_id and s.location_id = t.location_id
{%- endmacro %}

{% macro materialize__position_totals_now(totals) -%}
    select * from {{ totals }}
{%- endmacro %}

{#
    The scrap hours (`windows`, int_scrap_hourly's rows) with only the events up to as_of in the
    hour that contains it. Postgres: the hours hold every event ingested by the last refresh,
    so the events of that hour later than as_of (a backfill, a late upload) are taken out.
#}
{% macro scrap_hours_up_to_as_of(windows) -%}
    {{ return(adapter.dispatch('scrap_hours_up_to_as_of')(windows)) }}
{%- endmacro %}

{% macro postgres__scrap_hours_up_to_as_of(windows) -%}
    select
        w.work_center_id,
        w.sku_id,
        w.window_start,
        w.scrap_qty - coalesce(a.scrap_qty, 0) as scrap_qty,
        w.started_qty - coalesce(a.started_qty, 0) as started_qty
    from {{ windows }} as w
    -- the events of the hour later than as_of, of those the hours have counted (a subquery,
    -- not a WITH: Postgres plans it as part of the mart's query)
    left join (
        select
            work_center_id,
            sku_id,
            {{ utc_trunc('hour', 'event_ts') }} as window_start,
            sum(scrap_qty) as scrap_qty,
            sum(case when event_type = 'start' then qty else 0 end) as started_qty
        from {{ ref('stg_landing__mes_events') }}
        where event_ts > {{ as_of() }}
            and event_ts < {{ utc_trunc('hour', as_of()) }} + interval '1 hour'
            and ingest_seq <= (
                select coalesce(max(through_seq), 0) from {{ ref('int_scrap_hourly') }}
            )
        group by 1, 2, 3
    ) as a
        on a.work_center_id = w.work_center_id
        and a.sku_id = w.sku_id
        and a.window_start = w.window_start
{%- endmacro %}

{# Materialize: as_of is now, and the hour that contains it holds the events received so far. #}
{% macro materialize__scrap_hours_up_to_as_of(windows) -%}
    select * from {{ windows }}
{%- endmacro %}

{#
    On order per pair (sku_id, location_id, on_order_qty) at the moment of the read: the sum
    over open purchase order lines of max(ordered_qty - received_qty, 0). The lines (their
    versions) are as of the last refresh; the receipts are those inventory_position counts, so a
    receipt moves its quantity from on order to on hand in one step and projected_qty never
    counts it twice. Postgres: the POs that received since their lines were matched (receipts
    not yet in int_po_receipts, or appended there after int_purchase_order_lines last ran) are
    matched again here with those receipts; Materialize keeps the lines current on its own.
#}
{% macro on_order_now() -%}
    {{ return(adapter.dispatch('on_order_now')()) }}
{%- endmacro %}

{% macro postgres__on_order_now() -%}
    {%- set wms = ref('stg_landing__wms_events') -%}
    with

    po_lines as not materialized (
        select * from {{ ref('int_purchase_order_lines') }}
    ),

    po_receipts as not materialized (
        select * from {{ ref('int_po_receipts') }}
    ),

    -- receipts naming a PO that int_po_receipts has not appended yet (the landing table's
    -- partial index on exactly these)
    receipts_since as materialized (
        select ingest_seq, reference_id as po_id, sku_id, location_id, qty_base, event_ts
        from {{ wms }}
        where event_type = 'receipt'
            and reference_id is not null
            and {{ ingest_seq_after('(select coalesce(max(ingest_seq), 0) from po_receipts)', wms) }}
    ),

    -- POs whose receipts the stored lines have not matched
    rematched as materialized (
        select po_id from receipts_since
        union
        select po_id from po_receipts
        where changed_run > coalesce((
            select run_seq from {{ state_schema() }}.state_marks
            where model = 'int_purchase_order_lines'
        ), 0)
    ),

    rematched_lines as materialized (
        select l.*
        from rematched as p
        -- one index lookup per PO
        cross join lateral (
            select * from po_lines as s where s.po_id = p.po_id offset 0
        ) as l
    ),

    rematched_receipts as (
        select r.ingest_seq, r.po_id, r.sku_id, r.location_id, r.qty_base, r.event_ts
        from rematched as p
        cross join lateral (
            select * from po_receipts as s where s.po_id = p.po_id offset 0
        ) as r
        union all
        select * from receipts_since
    ),

    matched as (
        {{ po_receipts_matched('rematched_lines', 'rematched_receipts') }}
    ),

    open_lines as (
        select l.sku_id, l.location_id, l.ordered_qty, l.received_qty
        from po_lines as l
        where l.status = 'open'
            and l.po_id not in (select po_id from rematched)
        union all
        select l.sku_id, l.location_id, l.ordered_qty, coalesce(m.received_qty, 0)
        from rematched_lines as l
        left join matched as m
            on m.po_id = l.po_id and m.line_id = l.line_id
        where l.status = 'open'
    )

    select
        sku_id,
        location_id,
        sum(greatest(ordered_qty - received_qty, 0)) as on_order_qty
    from open_lines
    group by sku_id, location_id
{%- endmacro %}

{% macro materialize__on_order_now() -%}
    select
        sku_id,
        location_id,
        sum(greatest(ordered_qty - received_qty, 0)) as on_order_qty
    from {{ ref('int_purchase_order_lines') }}
    where status = 'open'
    group by sku_id, location_id
{%- endmacro %}

{#
    The stockout episodes (`episodes`, int_stockout_episodes' episode rows) as a replay up to
    as_of gives them: those started by as_of, with an end only when it is by as_of too (a later
    one is not seen yet: the episode is open). The stored episodes replay every counted event,
    and a replay up to as_of is a prefix of that one.
#}
{% macro stockout_episodes_up_to_as_of(episodes) -%}
    {{ return(adapter.dispatch('stockout_episodes_up_to_as_of')(episodes)) }}
{%- endmacro %}

{% macro postgres__stockout_episodes_up_to_as_of(episodes) -%}
    select
        sku_id,
        location_id,
        started_at,
        case when ended_at <= {{ as_of() }} then ended_at end as ended_at
    from {{ episodes }}
    where started_at <= {{ as_of() }}
{%- endmacro %}

{#- Materialize: mz_now() may only be filtered on, so each case is a branch of its own. #}
{% macro materialize__stockout_episodes_up_to_as_of(episodes) -%}
    -- ended by now
    select sku_id, location_id, started_at, ended_at
    from {{ episodes }}
    where ended_at is not null and mz_now() >= ended_at
    union all
    -- started, and its end not reached yet: open
    select sku_id, location_id, started_at, null::timestamptz
    from {{ episodes }}
    where ended_at is not null and mz_now() >= started_at and mz_now() < ended_at
    union all
    -- started, with no end among the events: open
    select sku_id, location_id, started_at, null::timestamptz
    from {{ episodes }}
    where ended_at is null and started_at is not null and mz_now() >= started_at
{%- endmacro %}
