{# kept_rows: a size whose count went back to zero keeps its row; a rebuild has none. #}
{{
    config(
        unique_key=['sku_id', 'abs_qty'],
        indexes=state_table_indexes([
            {'columns': ['sku_id', 'abs_qty'], 'unique': True},
            {'columns': ['through_seq']},
            {'columns': ['changed_run']},
        ]),
        meta={'kept_rows': 'movements <> 0'},
    )
}}

{#
    How many on-hand movements of each size each SKU had in the last 28 days: the distribution
    whose median sets the spike threshold. A refresh slides the window instead of re-reading it:
    it adds the new events that fall in the previous window, then the events that entered it
    (between the previous and the new as_of) and takes out those that left it (the same strip,
    28 days earlier). The work follows the new events and the time that passed, not the history.
#}

with

{#- not materialized (Postgres): each read below stays an index range of its own #}
movements as {{ not_materialized() }} (
    select * from {{ ref('int_wms_movements') }}
),

{% if incremental_run() %}
-- the events and the window this table has counted: its own through_seq, and the as_of of
-- its last completed run (not max(as_of): a run that moved as_of backwards leaves later ones)
previous as (
    select
        coalesce(max(through_seq), 0) as through_seq,
        coalesce({{ state_mark('as_of') }}, max(as_of), {{ as_of() }}) as as_of
    from {{ this }}
),

edges as (
    select
        least(p.as_of, {{ as_of() }}) as lower_end,
        greatest(p.as_of, {{ as_of() }}) as upper_end,
        case when {{ as_of() }} >= p.as_of then 1 else -1 end as direction,
        p.as_of as previous_as_of,
        p.through_seq as previous_seq
    from previous as p
),

delta as (
    {#- each part reads the movements itself, with the edges as scalar subqueries, so Postgres
        can use the ingest_seq and event_ts indexes instead of scanning the history #}
    -- new events, counted in the previous window
    select m.sku_id, m.abs_qty, 1 as movements, true as counts_new
    from (
        -- found by ingest_seq (few), not by time (the whole window)
        select * from movements
        where ingest_seq > (select previous_seq from edges)
        offset 0
    ) as m
    where m.event_ts > (select previous_as_of from edges) - interval '28 days'
        and m.event_ts <= (select previous_as_of from edges)
    union all
    -- entered the window as it moved
    select
        m.sku_id,
        m.abs_qty,
        (select direction from edges),
        m.ingest_seq > (select previous_seq from edges)
    from movements as m
    where m.event_ts > (select lower_end from edges)
        and m.event_ts <= (select upper_end from edges)
    union all
    -- left it
    select
        m.sku_id,
        m.abs_qty,
        -(select direction from edges),
        m.ingest_seq > (select previous_seq from edges)
    from movements as m
    where m.event_ts > (select lower_end from edges) - interval '28 days'
        and m.event_ts <= (select upper_end from edges) - interval '28 days'
),

changed as (
    select sku_id, abs_qty, sum(movements) as movements
    from delta
    group by sku_id, abs_qty
    {#- A size that counted a new event is written even when its changes cancel out: the rows'
        through_seq is this table's mark of the events it has counted, and a run that wrote
        nothing would leave the mark behind and count those events again next time. #}
    having sum(movements) <> 0 or bool_or(counts_new)
),

final as (
    select
        c.sku_id,
        c.abs_qty,
        coalesce(t.movements, 0) + c.movements as movements,
        (select max(ingest_seq) from movements) as through_seq,
        {{ as_of() }} as as_of,
        -- the run that changed the row: int_movement_spikes re-judges the SKUs changed after
        -- its own last run
        {{ run_seq() }} as changed_run
    from changed as c
    -- one lookup in the key's index per changed size, not a hash of every stored size
    left join lateral (
        select * from {{ this }} as s
        where s.sku_id = c.sku_id and s.abs_qty = c.abs_qty
        offset 0
    ) as t on true
)
{% else %}
final as (
    select
        sku_id,
        abs_qty,
        count(*) as movements,
        (select max(ingest_seq) from movements) as through_seq,
        {{ as_of() }} as as_of,
        {{ run_seq() }} as changed_run
    from movements
    where {{ in_window('event_ts', 28) }}
    group by sku_id, abs_qty
)
{% endif %}

select * from final
