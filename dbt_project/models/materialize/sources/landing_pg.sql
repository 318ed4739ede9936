{#
    Change data capture from the landing database: one subsource per landing table, named like
    the table, in the schema source('landing', ...) reads. The connection must exist first
    (`dbt run-operation create_materialize_connections`), and the publication covers schema raw
    (infra/landing-postgres-init.sql).
#}

{% set landing = var('landing_schema') %}

from postgres connection connections.landing_pg (publication 'inventory_landing')
for tables (
    raw.wms_events as {{ landing }}.wms_events,
    raw.mes_events as {{ landing }}.mes_events,
    raw.order_lines as {{ landing }}.order_lines,
    raw.purchase_orders as {{ landing }}.purchase_orders,
    raw.physical_counts as {{ landing }}.physical_counts,
    raw.skus as {{ landing }}.skus,
    raw.sku_params as {{ landing }}.sku_params,
    raw.uom_conversions as {{ landing }}.uom_conversions
)
