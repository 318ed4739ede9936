{{ config(alias='purchase_orders') }}

from kafka connection connections.redpanda (topic 'inventory.purchase_orders')
format json
