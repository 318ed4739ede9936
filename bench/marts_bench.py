"""Mart upkeep on Postgres at scale: incremental refresh against the nightly full rebuild, read
latency of reorder_alerts under a 1,000 events/s feed (with nobody refreshing, and with a
long-lived refresher running every few seconds, as the stream worker does), and how soon an
ingested event shows in inventory_position with nobody calling refresh.

    python bench/marts_bench.py [--events 10000000] [--pairs 100000]

The history is written straight into the landing tables with generate_series (the ingest path is
benchmarked by ingest_bench.py); the new events go through the real ingest. Uses its own state
folder (`<INVENTORY_HOME>/bench-marts`) and empties it.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import queue
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from common import fresh_state, machine

from dagster_project.core.db import connect
from dagster_project.core.db.roles import SUPERUSER
from dagster_project.core.db.server import EmbeddedServer
from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory.refresh import Refresher, refresh
from dagster_project.core.settings import Settings

AS_OF = datetime(2026, 11, 20, 12, tzinfo=UTC)
HISTORY_DAYS = 60


def history_sql(events: int, pairs: int) -> list[str]:
    """Landing rows for `pairs` SKU-locations (10 locations each SKU) over 60 days."""
    skus, start = pairs // 10, AS_OF - timedelta(days=HISTORY_DAYS)
    orders = events // 10
    return [
        "insert into raw.ingest_batches (source, file, started_at, received, accepted,"
        " duplicates, quarantined) values ('bench', 'generate_series', now(), 0, 0, 0, 0)",
        f"""
        insert into raw.skus (sku_id, base_uom, abc_class, batch_id, loaded_at)
        select 'S' || s, 'EA', (array['A','B','C'])[1 + s % 3], 1, now()
        from generate_series(1, {skus}) as s
        """,
        f"""
        insert into raw.sku_params (sku_id, location_id, lead_time_days, order_multiple,
            batch_id, loaded_at)
        select 'S' || s, null, 3 + s % 10, 1 + s % 12, 1, now()
        from generate_series(1, {skus}) as s
        """,
        f"""
        insert into raw.wms_events (ingest_seq, batch_id, event_id, event_type, sku_id,
            location_id, qty_delta, unit_cost, uom, uom_factor, event_ts, reference_id,
            received_at)
        select
            i, 1, 'H' || i,
            case when kind < 3 then 'receipt' when kind < 8 then 'issue'
                 when kind = 8 then 'reserve' else 'unreserve' end,
            'S' || (1 + pair / 10),
            'L' || pair % 10,
            -- a tenth of the SKUs are issued faster than they are replenished: most of their
            -- pairs fall below the reorder point (9% of all pairs alert)
            case when kind < 3 then 40 + i % 20
                 when kind < 8
                     then -(5 + i % 11) * (case when pair / 10 % 10 = 0 then 7 else 2 end) / 2
                 when kind = 8 then 3 else -3 end,
            case when kind < 3 then 2.5 + (i % 7) end,
            null, 1,
            '{start.isoformat()}'::timestamptz
                + (i::float8 / {events}) * interval '{HISTORY_DAYS} days',
            null, now()
        from generate_series(1::bigint, {events}) as i,
            -- 7919 is prime to the pair count, so each pass of {pairs:,} events visits every
            -- pair once; the kind turns with the pass, so each pair sees every kind in turn
            lateral (select (i * 7919) % {pairs} as pair) as p,
            lateral (select (i / {pairs} + pair) % 10 as kind) as k
        """,
        f"""
        insert into raw.order_lines (ingest_seq, batch_id, order_id, line_id, sku_id,
            location_id, quantity, status, order_ts, updated_at, received_at)
        select
            {events} + i, 1, 'O' || i, '1',
            'S' || (1 + ((i * 104729) % {pairs}) / 10), 'L' || ((i * 104729) % {pairs}) % 10,
            1 + i % 9, case when i % 20 = 0 then 'cancelled' else 'completed' end,
            '{start.isoformat()}'::timestamptz
                + (i::float8 / {orders}) * interval '{HISTORY_DAYS} days',
            '{start.isoformat()}'::timestamptz
                + (i::float8 / {orders}) * interval '{HISTORY_DAYS} days' + interval '2 hours',
            now()
        from generate_series(1::bigint, {orders}) as i
        """,
        f"""
        insert into raw.mes_events (ingest_seq, batch_id, event_id, order_id, sku_id,
            work_center_id, event_type, qty, scrap_qty, bom_level, event_ts, received_at)
        select
            {events + orders} + i, 1, 'M' || i, 'WO' || (i / 3), 'S' || (1 + i % {skus}),
            'WC' || (i % 20), (array['start','complete','scrap'])[1 + i % 3],
            case when i % 3 = 2 then 0 else 20 end, case when i % 3 = 2 then 1 + i % 4 else 0 end,
            null,
            '{start.isoformat()}'::timestamptz
                + (i::float8 / {events // 100}) * interval '{HISTORY_DAYS} days',
            now()
        from generate_series(1::bigint, {events // 100}) as i
        """,
        f"select setval('raw.ingest_seq', {events + orders + events // 100})",
        # as a nightly batch finds a history that autovacuum has long since visited: without it
        # the first full rebuild also pays for marking every freshly written row as committed
        "vacuum (freeze, analyze)",
    ]


def new_events(n: int, tag: str, pairs: int, at: datetime) -> list[dict]:
    skus = pairs // 10
    return [
        {
            "event_id": f"N{tag}-{i}",
            "event_type": "issue",
            "sku_id": f"S{1 + (i * 31) % skus}",
            "location_id": f"L{i % 10}",
            "qty_delta": -2,
            "event_ts": (at - timedelta(seconds=i % 3600)).isoformat(),
        }
        for i in range(n)
    ]


REFRESH_EVERY_S = 3.0


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


class Feeder(threading.Thread):
    """Ingests `rate` events/s in small batches until stopped; records when each batch landed."""

    def __init__(self, settings: Settings, rate: int, pairs: int):
        super().__init__(daemon=True)
        self.settings, self.rate, self.pairs = settings, rate, pairs
        self.stop = threading.Event()
        self.sent = 0

    def run(self) -> None:
        with connect(self.settings) as conn:
            started = time.monotonic()
            tick = 0
            while not self.stop.is_set():
                tick += 1
                batch = new_events(self.rate // 10, f"feed{tick}", self.pairs, datetime.now(UTC))
                ingest_records(conn, "wms", batch, "bench feeder")
                self.sent += len(batch)
                time.sleep(max(0.0, started + tick / 10 - time.monotonic()))


TAIL_SQL = """
select count(*) from raw.wms_events
where ingest_seq > (select coalesce(max(through_seq), 0) from intermediate.int_position_totals)
"""


def read_alerts(conn, queries: dict[str, str], n: int) -> dict[str, list[float]]:
    """Each query n times, interleaved; milliseconds, the rows fetched into Python."""
    reads: dict[str, list[float]] = {label: [] for label in queries}
    for _ in range(n):
        for label, query in queries.items():
            t = time.perf_counter()
            conn.execute(query).fetchall()
            reads[label].append((time.perf_counter() - t) * 1000)
    return reads


def read_alerts_with_own_connection(
    settings: Settings, queries: dict[str, str], n: int
) -> dict[str, list[float]]:
    with connect(settings) as conn:
        return read_alerts(conn, queries, n)


def refresh_loop(home: str, at: datetime, stop, reports) -> None:
    """The stream worker's loop: refresh every REFRESH_EVERY_S seconds, as of `at` plus the
    time since the loop started; report each refresh's seconds and the events it found."""
    settings = Settings(home=Path(home), database_url=None)
    refresher = Refresher(settings)
    refresher.refresh(as_of=at)  # parses the project and catches up
    reports.put(None)
    started = time.monotonic()
    while not stop.is_set():
        next_at = time.monotonic() + REFRESH_EVERY_S
        with connect(settings) as conn:
            tail = conn.execute(TAIL_SQL).fetchone()[0]
        instant = at + timedelta(seconds=time.monotonic() - started)
        reports.put((refresher.refresh(as_of=instant).seconds, tail))
        stop.wait(max(0.0, next_at - time.monotonic()))


def print_reads(reads: dict[str, list[float]]) -> None:
    for label, times in reads.items():
        print(
            f"  {label:<20} p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--visibility-trials", type=int, default=100)
    args = parser.parse_args()

    settings = fresh_state("bench-marts")
    home = settings.state_dir
    print(machine())

    started = time.perf_counter()
    with connect(settings, SUPERUSER) as conn:
        for statement in history_sql(args.events, args.pairs):
            conn.execute(statement)
    print(
        f"history: {args.events:,} WMS events over {args.pairs:,} SKU-locations, "
        f"{args.events // 10:,} order lines, {args.events // 100:,} MES events "
        f"(written in {time.perf_counter() - started:.0f} s)"
    )

    full = refresh(settings, as_of=AS_OF, full_refresh=True)
    print(f"full rebuild (the nightly batch): {full.seconds:.2f} s")

    # Autovacuum visits every table the rebuild wrote (700 MB of them) in the following minutes;
    # left to itself it shares the two cores with the refreshes measured next, and moved their
    # median by a third between runs. Done here instead, and not counted in the rebuild.
    started = time.perf_counter()
    with connect(settings, SUPERUSER) as conn:
        conn.execute("vacuum analyze")
    print(f"vacuum after the rebuild (not counted): {time.perf_counter() - started:.0f} s")

    # the stream worker's way: one long-lived Refresher; its first refresh parses the project
    refresher = Refresher(settings)
    refresher.refresh(as_of=AS_OF)
    at = AS_OF
    rounds = []
    with connect(settings) as conn:
        for r in range(5):  # five rounds: the median of three moved with one noisy round
            at += timedelta(minutes=5)
            ingest_records(conn, "wms", new_events(10_000, f"r{r}", args.pairs, at), "bench")
            rounds.append(refresher.refresh(as_of=at).seconds)
    incremental = statistics.median(rounds)
    print(
        f"incremental refresh after 10,000 new events (long-lived Refresher): median "
        f"{incremental:.2f} s of {', '.join(f'{s:.2f}' for s in rounds)} (target <= 2 s)"
    )
    print(f"full rebuild / incremental: {full.seconds / incremental:.0f}x (target >= 50x)")

    # the same with the one-shot refresh() of `inventory refresh` (dbt starts up each time)
    one_shot = []
    with connect(settings) as conn:
        for r in range(3):
            at += timedelta(minutes=5)
            ingest_records(conn, "wms", new_events(10_000, f"o{r}", args.pairs, at), "bench")
            one_shot.append(refresh(settings, as_of=at).seconds)
    print(
        f"the same with one-shot refresh(): median {statistics.median(one_shot):.2f} s of "
        f"{', '.join(f'{s:.2f}' for s in one_shot)} "
        f"({full.seconds / statistics.median(one_shot):.0f}x)"
    )

    feeder = Feeder(settings, 1_000, args.pairs)
    feeder.start()
    time.sleep(1)
    queries = {
        "all rows": "select * from marts.reorder_alerts",
        "one location": "select * from marts.reorder_alerts where location_id = 'L3'",
        "the 100 most urgent": (
            "select * from marts.reorder_alerts order by qty_below_rop limit 100"
        ),
        "how many": "select count(*) from marts.reorder_alerts",
    }
    visible = []
    with connect(settings) as conn, connect(settings) as writer:
        alerts = conn.execute(queries["how many"]).fetchone()[0]
        reads = read_alerts(conn, queries, args.reads)
        for trial in range(args.visibility_trials):
            # a pair of its own, so the feeder's events cannot make it look visible early
            sku, location = f"VIS{trial}", "L0"
            event = {
                "event_id": f"VIS-{trial}",
                "event_type": "receipt",
                "sku_id": sku,
                "location_id": location,
                "qty_delta": 1,
                "unit_cost": 1,
                "event_ts": datetime.now(UTC).isoformat(),
            }
            t = time.perf_counter()
            ingest_records(writer, "wms", [event], "bench visibility")
            while time.perf_counter() - t < 10:
                row = conn.execute(
                    "select on_hand_qty from marts.inventory_position"
                    " where sku_id = %s and location_id = %s",
                    [sku, location],
                ).fetchone()
                if row:
                    break
            else:
                raise SystemExit(f"event {event['event_id']} not visible after 10 s")
            visible.append((time.perf_counter() - t) * 1000)
    sent_alone = feeder.sent

    # as in production: a stream worker (a process of its own, with a long-lived Refresher)
    # refreshes every few seconds next to the feed; the reads start once it has caught up with
    # the events of the reads above
    context = multiprocessing.get_context("spawn")
    stop, reports = context.Event(), context.Queue()
    worker = context.Process(target=refresh_loop, args=(str(home), at, stop, reports))
    worker.start()
    reports.get(timeout=600)
    with connect(settings) as conn:
        busy_reads = read_alerts(conn, queries, args.reads)
    stop.set()
    busy = []
    while worker.is_alive() or not reports.empty():
        with contextlib.suppress(queue.Empty):
            busy.append(reports.get(timeout=1))
    worker.join()
    busy_refreshes, tails = [seconds for seconds, _ in busy], [tail for _, tail in busy]
    feeder.stop.set()
    feeder.join()

    print(
        f"reorder_alerts reads while ingesting 1,000 events/s and nobody refreshing "
        f"({sent_alone:,} sent, {alerts:,} alerts), {args.reads} each (target p95 <= 100 ms):"
    )
    print_reads(reads)
    print(
        f"ingest-to-visible in inventory_position, no refresh: p50 {percentile(visible, 50):.0f}"
        f" ms, p95 {percentile(visible, 95):.0f} ms over {len(visible)} events (target p95 <= 1 s)"
    )
    print(
        f"reorder_alerts reads while ingesting 1,000 events/s and a Refresher runs every "
        f"{REFRESH_EVERY_S:.0f} s ({len(busy_refreshes)} refreshes, median "
        f"{statistics.median(busy_refreshes):.2f} s, max {max(busy_refreshes):.2f} s; events "
        f"since the last refresh when one starts: median {statistics.median(tails):,.0f}), "
        f"{args.reads} each:"
    )
    print_reads(busy_reads)
    EmbeddedServer(settings).stop()


if __name__ == "__main__":
    try:
        main()
    except psycopg.Error as exc:
        raise SystemExit(f"database error: {exc}") from exc
