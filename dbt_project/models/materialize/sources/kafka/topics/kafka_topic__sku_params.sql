{{ config(alias='sku_params') }}

from kafka connection connections.redpanda (topic 'inventory.sku_params')
format json
