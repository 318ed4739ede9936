{#
    The ERP's feed of reorder alerts: an upsert stream keyed by (sku_id, location_id), so a pair
    that enters or changes is a message with its row, and a pair that leaves is a tombstone.
#}

from {{ ref('reorder_alerts') }}
into kafka connection connections.redpanda (
    topic 'inventory.reorder_alerts',
    -- compacted, the topic keeps the latest message per pair: the open alerts
    topic config map['cleanup.policy' => 'compact']
)
-- unique by construction (one health row per position); Materialize cannot always prove it
-- through the left joins that build the row, so the key is asserted rather than checked
key (sku_id, location_id) not enforced
format json
envelope upsert
