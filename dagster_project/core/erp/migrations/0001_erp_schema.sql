-- The ERP's tables: what the ERP reads (requests, live health, adjustments) and where the sink
-- keeps its progress. `if not exists` throughout: an ERP database made before its migrations
-- (by the DDL the platform ran at every start) already has these tables, and takes this
-- migration as a record of them.

-- One row per alert episode of a pair, with the alert's figures when it opened. The partial
-- unique index makes "never two open for one pair" a fact of the database, not of the sink.
create table if not exists erp.replenishment_requests (
    request_id bigint generated always as identity primary key,
    sku_id text not null,
    location_id text not null,
    status text not null default 'open' check (status in ('open', 'closed')),
    opened_at timestamptz not null default now(),
    closed_at timestamptz,
    -- figures of the reorder alert at opening
    available_qty numeric not null,
    reorder_point numeric not null,
    safety_stock numeric,
    demand_rate_per_day numeric,
    qty_below_rop numeric not null,
    suggested_order_qty numeric not null,
    inventory_status text not null,
    as_of timestamptz,
    -- where the inventory feed was (ingest_seq) when the sink opened and closed it
    opened_seq bigint,
    closed_seq bigint,
    check ((status = 'closed') = (closed_at is not null))
);
create unique index if not exists replenishment_requests_one_open_per_pair
    on erp.replenishment_requests (sku_id, location_id) where status = 'open';

-- marts.inventory_health by key. A row is rewritten only when a figure other than as_of changed
-- (else every refresh would rewrite every row), so as_of says when its figures were last seen
-- to change; erp.sink_progress.as_of says how current the table is as a whole.
create table if not exists erp.inventory_health_live (
    sku_id text not null,
    location_id text not null,
    on_hand_qty numeric,
    available_qty numeric,
    demand_rate_per_day numeric,
    demand_std_per_day numeric,
    lead_time_days numeric,
    lead_time_std_days numeric,
    service_level numeric,
    safety_stock numeric,
    reorder_point numeric,
    days_of_cover numeric,
    max_days_of_cover numeric,
    inventory_status text,
    as_of timestamptz,
    updated_at timestamptz not null default now(),
    primary key (sku_id, location_id)
);

-- Approved reconciliation adjustments (count variances a person or the auto-approve limit let
-- through), one per physical count; posted_at is set once the adjust event reached the WMS.
create table if not exists erp.stock_adjustments (
    adjustment_id bigint generated always as identity primary key,
    count_id text not null unique,
    sku_id text not null,
    location_id text not null,
    qty_delta numeric not null check (qty_delta <> 0),
    counted_at timestamptz not null,
    approved_by text not null,
    approved_at timestamptz not null,
    reason text,
    posted_at timestamptz
);

-- How far the sink got, written in the same transaction as what it wrote: ingest_seq for the
-- Postgres sink, mz_timestamp for the Materialize subscription.
create table if not exists erp.sink_progress (
    is_singleton boolean primary key default true check (is_singleton),
    ingest_seq bigint,
    mz_timestamp numeric,
    as_of timestamptz,
    synced_at timestamptz not null default now()
);
