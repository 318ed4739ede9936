{#
    Receipts matched to purchase order lines (DOMAIN.md: a receipt whose reference_id is a po_id
    and whose SKU and location match a line receives against it, oldest line first).

    `lines`: the current lines (po_id, line_id, sku_id, location_id, ordered_qty, ordered_at,
    status) of some POs; `receipts`: every receipt (ingest_seq, po_id, sku_id, location_id,
    qty_base, event_ts) against those POs. One row per line that can receive: po_id, line_id,
    received_qty, first_received_at, received_in_full_at.

    The receiving lines of a (PO, SKU, location), oldest first (ordered_at, then line_id), are
    filled one after the other by the receipts taken in (event_ts, ingest_seq) order: a line
    holds the stretch (takes_from, takes_from + ordered_qty] of the running received quantity,
    takes_from being what the older lines hold. Cancelled lines receive nothing; the newest
    receiving line takes any surplus beyond every line's ordered_qty. Written in closed form
    (running sums, no loop), so one PO re-matches in one pass, on either engine.
#}
{% macro po_receipts_matched(lines, receipts) -%}
    select
        l.po_id,
        l.line_id,
        coalesce(
            case
                when l.is_newest then greatest(max(r.received_through) - l.takes_from, 0)
                else least(greatest(max(r.received_through) - l.takes_from, 0), l.ordered_qty)
            end,
            0
        ) as received_qty,
        -- the first receipt that put quantity on the line, then the one that filled it
        min(case when r.received_through > l.takes_from then r.event_ts end)
            as first_received_at,
        min(case when r.received_through >= l.takes_from + l.ordered_qty then r.event_ts end)
            as received_in_full_at
    from (
        select
            po_id,
            line_id,
            sku_id,
            location_id,
            ordered_qty,
            -- line_id is unique in a PO, so the running sum has no ties
            sum(ordered_qty) over (
                partition by po_id, sku_id, location_id order by ordered_at, line_id
            ) - ordered_qty as takes_from,
            row_number() over (
                partition by po_id, sku_id, location_id order by ordered_at desc, line_id desc
            ) = 1 as is_newest
        from {{ lines }}
        where status <> 'cancelled'
    ) as l
    left join (
        select
            po_id,
            sku_id,
            location_id,
            event_ts,
            sum(qty_base) over (
                partition by po_id, sku_id, location_id order by event_ts, ingest_seq
            ) as received_through
        from {{ receipts }}
    ) as r
        on r.po_id = l.po_id and r.sku_id = l.sku_id and r.location_id = l.location_id
    group by l.po_id, l.line_id, l.is_newest, l.takes_from, l.ordered_qty
{%- endmacro %}
