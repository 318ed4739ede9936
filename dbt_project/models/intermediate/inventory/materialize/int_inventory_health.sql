{#
    Health of every position, as the marts' dataflow keeps it current: the health of each row of
    inventory_position, whose stock Materialize keeps current on its own (there is no stored
    health of a last refresh to start from, as on Postgres).
#}

{{ health_rows(ref('inventory_position')) }}
