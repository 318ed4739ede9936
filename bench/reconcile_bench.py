"""Count reconciliation at scale: 100k physical counts over a 10M-event history, decided in
(counted_at, count_id) order with their adjustments posted through the real ingest, then
delivered to the ERP; a re-run that must decide nothing; the same decisions again with a warm
cache; and what the pair/time index costs.

    python bench/reconcile_bench.py [--events 10000000] [--pairs 100000] [--counts 100000]

The history is written straight into the landing tables with generate_series, as marts_bench.py
does; each counted pair is counted twice in the last 30 days, and the counted quantities are
derived from the book at counted_at so that about 40% match, 30% fall within 1% and 30% are off
by 10% or more. Uses its own state folder (`<INVENTORY_HOME>/bench-reconcile`) and empties it.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import psycopg
from common import fresh_state, machine
from marts_bench import AS_OF, history_sql, new_events

from dagster_project.core.db import connect
from dagster_project.core.db.roles import SUPERUSER
from dagster_project.core.db.server import EmbeddedServer
from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory.refresh import CLOCK_DDL
from dagster_project.core.reconciliation import deliver_to_erp, ensure_views, reconcile


def counts_sql(counts: int, pairs: int, first_seq: int) -> str:
    """`counts` counts over counts / 2 of the pairs (every other one), two per pair, each at its
    own instant of the last 30 days; the counted quantity is the book at that instant, moved."""
    counted_pairs = counts // 2
    return f"""
    insert into raw.physical_counts (ingest_seq, batch_id, count_id, sku_id, location_id,
        counted_qty, counted_at, counted_by, received_at)
    select {first_seq} + i, 1, 'K' || i, c.sku_id, c.location_id,
        greatest(0, case
            when i % 10 < 4 then b.book
            when i % 10 < 7 then b.book + trunc(abs(b.book) / 100)
            else b.book + 1 + trunc(abs(b.book) / 10)
        end),
        c.counted_at, 'bench', now()
    from generate_series(1::bigint, {counts}) as i
    cross join lateral (
        select
            'S' || (1 + q / 10) as sku_id,
            'L' || q % 10 as location_id,
            '{AS_OF.isoformat()}'::timestamptz - (1 + i % 29) * interval '1 day'
                - (i % 86400) * interval '1 second' as counted_at
        from (select ((i * 7919) % {counted_pairs}) * {pairs // counted_pairs} as q) as p
    ) as c
    cross join lateral (
        select coalesce(sum(e.qty_delta * e.uom_factor), 0) as book
        from raw.wms_events as e
        where e.sku_id = c.sku_id and e.location_id = c.location_id
            and e.event_ts <= c.counted_at
            and e.event_type in ('receipt', 'issue', 'return', 'transfer_in', 'transfer_out',
                                 'adjust')
    ) as b
    """


# The same system quantities in one set-based pass, without the index: a hash join of the
# whole history with the counts (what a view without the index would run).
HASH_JOIN = """
select count(*), sum(book) from (
    select c.count_id, sum(e.qty_delta * e.uom_factor) as book
    from raw.physical_counts as c
    join raw.wms_events as e
        on e.sku_id = c.sku_id and e.location_id = c.location_id and e.event_ts <= c.counted_at
    where e.event_type not in ('hold', 'release', 'reserve', 'unreserve')
    group by c.count_id
) as s
"""


def timed(step):
    started = time.perf_counter()
    value = step()
    return value, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--counts", type=int, default=100_000)
    args = parser.parse_args()

    settings = fresh_state("bench-reconcile")
    print(machine())

    started = time.perf_counter()
    with connect(settings, SUPERUSER) as conn:
        for statement in history_sql(args.events, args.pairs):
            conn.execute(statement)
        seq = conn.execute("select last_value from raw.ingest_seq").fetchone()[0]
        conn.execute(counts_sql(args.counts, args.pairs, seq))
        conn.execute(f"select setval('raw.ingest_seq', {seq + args.counts})")
        conn.execute("vacuum analyze raw.wms_events, raw.physical_counts")
        conn.execute(CLOCK_DDL)
        conn.execute(
            "insert into intermediate.refresh_clock (as_of) values (%s)"
            " on conflict (is_singleton) do update set as_of = excluded.as_of",
            [AS_OF],
        )
        ensure_views(settings, conn)
    print(
        f"history: {args.events:,} WMS events over {args.pairs:,} SKU-locations, "
        f"{args.counts:,} counts of {args.counts // 2:,} pairs "
        f"(written in {time.perf_counter() - started:.0f} s)"
    )

    result = reconcile(settings)
    print(
        f"reconcile {args.counts:,} counts: {result.seconds:.2f} s (target <= 30 s) in "
        f"{result.rounds} rounds: " + ", ".join(f"{k} {v:,}" for k, v in result.decided.items())
        + f"; {result.posted:,} adjustments posted; rounds "
        + ", ".join(f"{r:.2f}" for r in result.round_seconds) + " s"
    )  # fmt: skip
    with connect(settings) as conn:
        waiting = conn.execute(
            "select count(*) from marts.count_variances where decision is null"
        ).fetchone()[0]
    print(f"  left undecided behind a pending count of their pair: {waiting:,}")
    sent, seconds = timed(lambda: deliver_to_erp(settings))
    print(f"deliver to erp.stock_adjustments: {sent:,} rows in {seconds:.2f} s")
    again = reconcile(settings)
    resent, reseconds = timed(lambda: deliver_to_erp(settings))
    print(
        f"re-run: decided {again.total}, posted {again.posted} in {again.seconds:.2f} s; "
        f"ERP delivery {resent} rows in {reseconds:.2f} s"
    )

    # The same decisions once more with the index and history in cache: the log and the posted
    # adjustments are removed first (a bench database only; the log refuses this otherwise).
    with connect(settings, SUPERUSER) as conn, conn.transaction():
        conn.execute("set local session_replication_role = replica")
        conn.execute("truncate reconciliation.decisions, reconciliation.erp_deliveries")
        conn.execute("delete from raw.wms_events where event_id like 'count-adjust:%'")
    warm = reconcile(settings)
    print(
        f"reconcile again, warm (log emptied): {warm.seconds:.2f} s, {warm.total:,} decided, "
        f"{warm.posted:,} posted; rounds {', '.join(f'{r:.2f}' for r in warm.round_seconds)} s"
    )

    with connect(settings, SUPERUSER) as conn:
        reads = {
            "count_variances, all rows": "select * from marts.count_variances",
            "count_variances, one count": (
                "select * from marts.count_variances where count_id = 'K4242'"
            ),
            "inventory_record_accuracy, rolling 30 days": (
                "select * from marts.inventory_record_accuracy where period = 'rolling_30d'"
            ),
        }
        for label, query in reads.items():
            rows, seconds = timed(lambda q=query: conn.execute(q).fetchall())
            print(f"read {label}: {len(rows):,} rows in {seconds:.2f} s")
        decided = Counter(
            dict(conn.execute("select decision, count(*) from reconciliation.decisions group by 1"))
        )
        print(f"decision log: {sum(decided.values()):,} rows, {dict(decided)}")

        (n, _), seconds = timed(lambda: conn.execute(HASH_JOIN).fetchone())
        print(
            f"without the index: the {n:,} books by one hash join over the history: {seconds:.2f} s"
        )

        batch = new_events(100_000, "with-index", args.pairs, AS_OF)
        landed, with_index = timed(lambda: ingest_records(conn, "wms", batch, "bench"))
        conn.execute("drop index raw.wms_events_pair_ts_idx")
        batch = new_events(100_000, "without-index", args.pairs, AS_OF)
        _, without_index = timed(lambda: ingest_records(conn, "wms", batch, "bench"))
        print(
            f"ingest 100,000 WMS events onto the history: {with_index:.2f} s with the pair/time "
            f"index, {without_index:.2f} s without ({landed.accepted:,} accepted)"
        )
    EmbeddedServer(settings).stop()


if __name__ == "__main__":
    try:
        main()
    except psycopg.Error as exc:
        raise SystemExit(f"database error: {exc}") from exc
