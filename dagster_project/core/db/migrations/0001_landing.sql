-- Landing schema: the inputs and reference data of DOMAIN.md, exactly as accepted.
-- Event tables are append-only. Every accepted event takes a number from one shared sequence, under
-- a lock held by one ingest batch at a time, so "everything after ingest_seq N" is a complete,
-- commit-ordered slice for downstream work. batch_id is written only by the ingest batch that
-- creates the batch row; it is not a foreign key because a per-row check halves bulk-load speed.

create sequence raw.ingest_seq as bigint;

create table raw.ingest_batches (
    batch_id bigint generated always as identity primary key,
    source text not null,
    file text not null,
    started_at timestamptz not null,
    finished_at timestamptz not null default clock_timestamp(),
    received integer not null,
    accepted integer not null,
    duplicates integer not null,
    quarantined integer not null,
    first_seq bigint,
    last_seq bigint,
    is_replay boolean not null default false,
    check (received = accepted + duplicates + quarantined)
);

create table raw.wms_events (
    ingest_seq bigint primary key,
    batch_id bigint not null,
    event_id text not null unique,
    event_type text not null,
    sku_id text not null,
    location_id text not null,
    qty_delta numeric not null,
    unit_cost numeric,
    uom text,
    uom_factor numeric not null,
    event_ts timestamptz not null,
    reference_id text,
    received_at timestamptz not null
);

create table raw.mes_events (
    ingest_seq bigint primary key,
    batch_id bigint not null,
    event_id text not null unique,
    order_id text not null,
    sku_id text not null,
    work_center_id text not null,
    event_type text not null,
    qty numeric not null,
    scrap_qty numeric not null,
    bom_level integer,
    event_ts timestamptz not null,
    received_at timestamptz not null
);

-- Every version of an order line is kept; the staging layer picks the latest.
create table raw.order_lines (
    ingest_seq bigint primary key,
    batch_id bigint not null,
    order_id text not null,
    line_id text not null,
    sku_id text not null,
    location_id text not null,
    quantity numeric not null,
    status text not null,
    order_ts timestamptz not null,
    updated_at timestamptz,
    received_at timestamptz not null
);
create index order_lines_key_idx on raw.order_lines (order_id, line_id);
create unique index order_lines_version_idx on raw.order_lines (order_id, line_id, updated_at)
    where updated_at is not null;

create table raw.physical_counts (
    ingest_seq bigint primary key,
    batch_id bigint not null,
    count_id text not null unique,
    sku_id text not null,
    location_id text not null,
    counted_qty numeric not null,
    counted_at timestamptz not null,
    counted_by text,
    received_at timestamptz not null
);

create table raw.skus (
    sku_id text primary key,
    description text,
    base_uom text not null,
    abc_class text,
    batch_id bigint not null references raw.ingest_batches,
    loaded_at timestamptz not null
);

-- location_id null = the all-locations row; empty cells stay null so defaults apply downstream.
create table raw.sku_params (
    sku_id text not null,
    location_id text,
    lead_time_days numeric,
    lead_time_std_days numeric,
    service_level numeric,
    reorder_point numeric,
    safety_stock numeric,
    order_qty numeric,
    order_multiple numeric,
    min_order_qty numeric,
    review_period_days numeric,
    max_days_of_cover numeric,
    batch_id bigint not null references raw.ingest_batches,
    loaded_at timestamptz not null,
    unique nulls not distinct (sku_id, location_id)
);

create table raw.uom_conversions (
    sku_id text not null,
    uom text not null,
    factor_to_base numeric not null,
    batch_id bigint not null references raw.ingest_batches,
    loaded_at timestamptz not null,
    primary key (sku_id, uom)
);

-- Rejected input, kept whole: raw text as received, the parsed record it was judged on, and why.
create table raw.quarantine (
    quarantine_id bigint generated always as identity primary key,
    batch_id bigint not null references raw.ingest_batches,
    source text not null,
    file text not null,
    line_no bigint not null,
    raw_text text not null,
    payload text,
    reason text not null,
    quarantined_at timestamptz not null,
    replayed_at timestamptz,
    resolved_at timestamptz,
    resolved_batch_id bigint references raw.ingest_batches,
    resolution text check (resolution in ('accepted', 'duplicate'))
);
create index quarantine_open_idx on raw.quarantine (source, md5(raw_text)) where resolved_at is null;
