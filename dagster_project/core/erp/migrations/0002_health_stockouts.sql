-- The live health rows carry the pair's stockouts of the last 30 days (marts.stockout_frequency_30d,
-- joined by key): how often it ran out and the share of the 30 days it was in stock. Null until
-- the sink next writes the row.
alter table erp.inventory_health_live
    add column if not exists stockouts_30d bigint,
    add column if not exists in_stock_pct_30d numeric;
