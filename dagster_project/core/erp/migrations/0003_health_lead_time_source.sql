-- Where the lead time of a health row comes from: `param` (sku_params), `measured` (the pair's
-- received purchase order lines) or `default` (7 days). The sink compares it with the mart's, so
-- the next sync after this migration fills it on every row.
alter table erp.inventory_health_live add column if not exists lead_time_source text;
