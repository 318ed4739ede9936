{{ config(alias='skus') }}

from kafka connection connections.redpanda (topic 'inventory.skus')
format json
