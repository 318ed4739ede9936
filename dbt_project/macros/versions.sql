{#
    The rank of a versioned input's row among the versions of its key (order lines, purchase
    order lines), 1 for the current one: the latest updated_at wins; a version without
    updated_at (is_received_now) counts as received at load time, later than any explicit one,
    and among those the later arrival wins.
#}
{% macro latest_version_first(key) -%}
    row_number() over (
        partition by {{ key | join(', ') }}
        order by is_received_now desc, updated_at desc nulls last, ingest_seq desc
    )
{%- endmacro %}
