{{ config(alias='physical_counts') }}

from kafka connection connections.redpanda (topic 'inventory.physical_counts')
format json
