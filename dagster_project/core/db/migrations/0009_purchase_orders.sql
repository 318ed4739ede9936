-- Purchase order lines (DOMAIN.md "Purchase orders, on order and measured lead times"): every
-- accepted version is kept, as for order lines; the state layer picks the current one.
create table raw.purchase_orders (
    ingest_seq bigint primary key,
    batch_id bigint not null,
    po_id text not null,
    line_id text not null,
    supplier_id text not null,
    sku_id text not null,
    location_id text not null,
    ordered_qty numeric not null,
    ordered_at timestamptz not null,
    promised_at timestamptz,
    status text not null,
    updated_at timestamptz,
    received_at timestamptz not null
);
-- every version of a PO, read when one of its lines or receipts changes
create index purchase_orders_po_idx on raw.purchase_orders (po_id, line_id);
create unique index purchase_orders_version_idx on raw.purchase_orders (po_id, line_id, updated_at)
    where updated_at is not null;

-- The receipts that may receive against a PO, found by ingest_seq: a refresh (and a read) takes
-- those after its mark without reading the other warehouse events. Partial: only receipts
-- carrying a reference pay for it at ingest.
create index wms_events_referenced_receipts_idx on raw.wms_events (ingest_seq)
    where event_type = 'receipt' and reference_id is not null;
