{{ config(alias='wms_events') }}

from kafka connection connections.redpanda (topic 'inventory.wms_events')
format json
