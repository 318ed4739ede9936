{{ config(alias='uom_conversions') }}

from kafka connection connections.redpanda (topic 'inventory.uom_conversions')
format json
