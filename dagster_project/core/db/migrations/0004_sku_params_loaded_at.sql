-- Every read of inventory_health and reorder_alerts asks when the parameters were last loaded
-- (stored health computed with older parameters is recomputed): an index answers with one probe
-- instead of a scan of every SKU's parameter rows.
create index sku_params_loaded_at on raw.sku_params (loaded_at);
