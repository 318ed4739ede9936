-- Reconciliation of physical counts: every decision taken on a count, kept append-only, and how
-- far the approved adjustments have been delivered to the ERP. The adjustments themselves are
-- `adjust` events in raw.wms_events (event_id 'count-adjust:<count_id>', reference_id the count).

create schema recon;

-- One row per decision. A count is opened once (matched, auto_approved or pending) and a pending
-- count is closed at most once (approved or rejected); the numbers are those the decision saw.
create table recon.decisions (
    decision_id bigint generated always as identity primary key,
    count_id text not null,
    decision text not null
        check (decision in ('matched', 'auto_approved', 'pending', 'approved', 'rejected')),
    decided_by text not null,
    decided_at timestamptz not null default clock_timestamp(),
    reason text,
    sku_id text not null,
    location_id text not null,
    abc_class text,
    counted_qty numeric not null,
    counted_at timestamptz not null,
    system_qty numeric not null,
    variance_qty numeric not null,
    variance_pct numeric,
    tolerance_pct numeric not null,
    auto_approve_limit_pct numeric not null,
    is_within_tolerance boolean not null,
    -- the adjust event this decision posted; null when it posted nothing
    adjustment_event_id text,
    adjustment_qty numeric,
    check ((adjustment_event_id is null) = (adjustment_qty is null)),
    check (decision not in ('approved', 'rejected') or nullif(trim(reason), '') is not null)
);
create unique index decisions_opened_once_idx on recon.decisions (count_id)
    where decision in ('matched', 'auto_approved', 'pending');
create unique index decisions_closed_once_idx on recon.decisions (count_id)
    where decision in ('approved', 'rejected');
create index decisions_posted_idx on recon.decisions (decision_id)
    where adjustment_event_id is not null;

-- Deliveries of posted adjustments to erp.stock_adjustments: the ERP keys them by count_id, so
-- a delivery repeated after a crash between the two commits changes nothing there.
create table recon.erp_deliveries (
    delivery_id bigint generated always as identity primary key,
    through_decision_id bigint not null,
    rows_sent integer not null,
    delivered_at timestamptz not null default clock_timestamp()
);

create function recon.refuse_change() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only: % refused', tg_table_name, tg_op;
end
$$;

create trigger decisions_are_append_only
    before update or delete on recon.decisions
    for each row execute function recon.refuse_change();
create trigger decisions_are_never_truncated
    before truncate on recon.decisions
    for each statement execute function recon.refuse_change();
create trigger erp_deliveries_are_append_only
    before update or delete on recon.erp_deliveries
    for each row execute function recon.refuse_change();

-- System quantity at a count's instant: the on-hand deltas of one pair up to counted_at, read from
-- the index alone (about 100 entries per count at 10M events over 100k pairs).
create index wms_events_pair_ts_idx on raw.wms_events (sku_id, location_id, event_ts)
    include (event_type, qty_delta, uom_factor);
