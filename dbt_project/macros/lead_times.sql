{#
    Measured lead times (DOMAIN.md "Purchase orders, on order and measured lead times"): a
    received line's lead time is its first receipt's event_ts - ordered_at, in days.
#}

{# The last lines of a pair that measure its lead time, and how many it needs. #}
{% macro measured_lead_time_lines() -%}
    {{ return({'min': 5, 'max': 20}) }}
{%- endmacro %}

{# A line's lead time in seconds, exact (epoch of an interval is numeric). #}
{% macro lead_time_seconds(line) -%}
    extract(epoch from {{ line }}.first_received_at - {{ line }}.ordered_at)
{%- endmacro %}

{#
    Per pair of `lines` (sku_id, location_id, po_id, line_id, ordered_at, first_received_at: the
    lines first received by as_of), the lead time of its last 20 lines by first_received_at (then
    po_id, line_id): measured_lines (at most 20), lead_time_mean_days and lead_time_std_days
    (population), both shown to 4 decimals and null below 5 lines.
#}
{% macro measured_lead_times(lines) -%}
    {%- set limits = measured_lead_time_lines() -%}
    select
        sku_id,
        location_id,
        count(*) as measured_lines,
        case when count(*) >= {{ limits.min }}
            then {{ planning_figure('avg(lead_time_seconds) / 86400') }}
        end as lead_time_mean_days,
        case when count(*) >= {{ limits.min }}
            then {{ planning_figure('stddev_pop(lead_time_seconds) / 86400') }}
        end as lead_time_std_days
    from (
        select
            l.sku_id,
            l.location_id,
            {{ lead_time_seconds('l') }} as lead_time_seconds,
            row_number() over (
                partition by l.sku_id, l.location_id
                order by l.first_received_at desc, l.po_id desc, l.line_id desc
            ) as recency
        from {{ lines }} as l
    ) as ranked
    where recency <= {{ limits.max }}
    group by sku_id, location_id
{%- endmacro %}
