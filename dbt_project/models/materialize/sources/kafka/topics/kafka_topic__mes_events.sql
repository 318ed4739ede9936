{{ config(alias='mes_events') }}

from kafka connection connections.redpanda (topic 'inventory.mes_events')
format json
