{{ config(alias='order_lines') }}

from kafka connection connections.redpanda (topic 'inventory.order_lines')
format json
