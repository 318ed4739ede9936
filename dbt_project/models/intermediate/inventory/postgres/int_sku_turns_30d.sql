{{
    config(
        unique_key=['sku_id'],
        indexes=[{'columns': ['sku_id'], 'unique': True}],
    )
}}

{#
    Inventory turns per SKU over all its locations: units issued in the 30 days up to as_of, and
    the mean of the 30 end-of-day on-hand totals (the last "day" ending at as_of). The mean is
    kept as the exact sum of the 30 totals (on_hand_days_30d), divided once, so that adding to
    it and computing it afresh give the same digits.

    From scratch (a full build, and the first refresh of a new UTC day, when every day's weight
    moves): a day's change counts in every end of day from its date on, so it weighs (days it
    counts) of the 30; days older than the window count fully: they are the SKU's total minus
    the window's days. That reads 30 daily rows per SKU and the movements of two partial days.

    Later on the same day, a refresh adds to the stored sums only what changed since the last:
    the new movements (by their date's weight), the older movements that as_of has now passed
    (they count in today's total), and the issues that left the 30 days. The work follows the
    new events and the time passed, not the number of SKUs.
#}

with

{#- not materialized: each read below stays an index range of its own, where Postgres would
    otherwise read a CTE used twice in full, once #}
movements as not materialized (
    select * from {{ ref('int_wms_movements') }}
),

daily_flows as (
    select * from {{ ref('int_sku_daily_flows') }}
),

position_totals as not materialized (
    select * from {{ ref('int_position_totals') }}
),

bounds as (
    select
        {{ as_of() }} as as_of,
        ({{ as_of() }} at time zone 'UTC')::date as as_of_date,
        ({{ as_of() }} at time zone 'UTC')::date - 28 as first_partial_date,
        (({{ as_of() }} - interval '30 days') at time zone 'UTC')::date as issues_first_date,
        (select max(through_seq) from position_totals) as through_seq
),

{% if incremental_run() %}
-- the instant and the events the stored sums are as of
previous as (
    select max(as_of) as as_of, max(through_seq) as through_seq from {{ this }}
),

mode as (
    -- add to the stored sums, or compute every SKU afresh
    select
        coalesce(
            p.as_of <= b.as_of and (p.as_of at time zone 'UTC')::date = b.as_of_date, false
        ) as is_additive,
        p.as_of as previous_as_of,
        p.through_seq as previous_seq
    from previous as p
    cross join bounds as b
),
{% endif %}

{#- ---------------------------------------------------------------- afresh #}

-- on the as_of date, what happened after as_of does not count yet
after_as_of as (
    select
        m.sku_id,
        sum(m.qty_base) as on_hand_delta,
        sum(case when m.event_type = 'issue' then -m.qty_base else 0 end) as issued_qty
    from movements as m
    cross join bounds as b
    where m.event_ts > b.as_of
        and m.event_ts < (b.as_of_date + 1)::timestamp at time zone 'UTC'
        {% if incremental_run() %}and not (select is_additive from mode){% endif %}
    group by m.sku_id
),

-- on the first day of the 30, only what came after as_of - 30 days counts
first_day_issues as (
    select m.sku_id, -sum(m.qty_base) as issued_qty
    from movements as m
    cross join bounds as b
    where m.event_type = 'issue'
        and m.event_ts > b.as_of - interval '30 days'
        and m.event_ts < (b.issues_first_date + 1)::timestamp at time zone 'UTC'
        {% if incremental_run() %}and not (select is_additive from mode){% endif %}
    group by m.sku_id
),

per_sku as (
    select
        f.sku_id,
        sum(f.on_hand_delta) filter (where f.flow_date >= b.first_partial_date) as recent_qty,
        -- an event counts in every end of day from its own date on
        sum(f.on_hand_delta * (1 + (b.as_of_date - f.flow_date))) filter (
            where f.flow_date between b.first_partial_date and b.as_of_date
        ) as recent_on_hand_days,
        sum(f.issued_qty) filter (
            where f.flow_date > b.issues_first_date and f.flow_date <= b.as_of_date
        ) as issues_whole_days
    from daily_flows as f
    cross join bounds as b
    where f.flow_date >= least(b.first_partial_date, b.issues_first_date)
        {% if incremental_run() %}and not (select is_additive from mode){% endif %}
    group by f.sku_id
),

totals as (
    select sku_id, sum(on_hand_qty) as on_hand_qty
    from position_totals
    {% if incremental_run() %}where not (select is_additive from mode){% endif %}
    group by sku_id
),

afresh as (
    select
        t.sku_id,
        coalesce(p.issues_whole_days, 0) - coalesce(a.issued_qty, 0)
            + coalesce(fd.issued_qty, 0) as issues_30d,
        -- 30 end-of-day totals: the total now on each, less the days not reached yet
        30 * (t.on_hand_qty - coalesce(p.recent_qty, 0)) + coalesce(p.recent_on_hand_days, 0)
            - coalesce(a.on_hand_delta, 0) as on_hand_days_30d
    from totals as t
    left join per_sku as p on p.sku_id = t.sku_id
    left join after_as_of as a on a.sku_id = t.sku_id
    left join first_day_issues as fd on fd.sku_id = t.sku_id
),

{% if incremental_run() %}
{#- ---------------------------------------------------------------- added #}

changes as (
    -- movements counted since the last refresh, weighed by how many of the 30 end-of-day
    -- totals they reach now
    select
        m.sku_id,
        m.qty_base * case
            when m.event_ts > b.as_of then 0
            else least(30, 1 + b.as_of_date - (m.event_ts at time zone 'UTC')::date)
        end as on_hand_days,
        case
            when m.event_type = 'issue' and m.event_ts > b.as_of - interval '30 days'
                and m.event_ts <= b.as_of then -m.qty_base
            else 0
        end as issued_qty
    from (
        -- found by ingest_seq (few), not by time
        select * from movements
        where ingest_seq > (select previous_seq from mode)
            and (select is_additive from mode)
        offset 0
    ) as m
    cross join bounds as b
    union all
    -- older movements that as_of has passed since: today's total counts them now
    select
        m.sku_id,
        m.qty_base,
        case when m.event_type = 'issue' then -m.qty_base else 0 end
    from movements as m
    where m.event_ts > (select previous_as_of from mode)
        and m.event_ts <= (select as_of from bounds)
        and m.ingest_seq <= (select previous_seq from mode)
        and (select is_additive from mode)
    union all
    -- issues that left the 30 days since
    select m.sku_id, 0, m.qty_base
    from movements as m
    where m.event_ts > (select previous_as_of from mode) - interval '30 days'
        and m.event_ts <= (select as_of from bounds) - interval '30 days'
        and m.ingest_seq <= (select previous_seq from mode)
        and m.event_type = 'issue'
        and (select is_additive from mode)
    union all
    -- SKUs with their first position since (a reservation, say), which have no movements
    select t.sku_id, 0, 0
    from position_totals as t
    where t.through_seq > (select previous_seq from mode)
        and (select is_additive from mode)
),

-- what changed since the stored sums, per SKU
delta as (
    select sku_id, sum(on_hand_days) as on_hand_days, sum(issued_qty) as issued_qty
    from changes
    group by sku_id
),

added as (
    select
        d.sku_id,
        coalesce(s.issues_30d, 0) + d.issued_qty as issues_30d,
        coalesce(s.on_hand_days_30d, 0) + d.on_hand_days as on_hand_days_30d
    from delta as d
    -- the stored row of each changed SKU, through the key's index
    left join lateral (
        select * from {{ this }} as s where s.sku_id = d.sku_id offset 0
    ) as s on true
),
{% endif %}

per_sku_30d as (
    select * from afresh
    {% if incremental_run() %}
    union all
    select * from added
    {% endif %}
),

final as (
    select
        p.sku_id,
        p.issues_30d,
        p.on_hand_days_30d,
        p.on_hand_days_30d / 30.0 as avg_on_hand_30d,
        b.as_of,
        b.through_seq
    from per_sku_30d as p
    cross join bounds as b
)

select * from final
