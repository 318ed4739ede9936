"""Ingest speed: simulated WMS events from a JSON Lines file into the embedded Postgres.

Prints, from one run: the plain COPY speed of the same lines (the floor no validation can beat),
the ingest speed into an empty landing table, into a table already holding that history, and of a
re-run of the same file (every record a duplicate or already quarantined), with the ratios.

    python bench/ingest_bench.py [--orders-per-day 34000] [--skus 2000]

Uses its own state folder (`<INVENTORY_HOME>/bench`, default `.inventory/bench`) and empties it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import fresh_state, machine

from dagster_project.core.db import connect
from dagster_project.core.db.server import EmbeddedServer
from dagster_project.core.ingest import InputFile, ingest_file
from dagster_project.core.ingest.readers import copy_jsonl
from dagster_project.core.simulate import SimConfig, generate, write_workload


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def copy_only(conn, path: Path) -> float:
    """Seconds to COPY the file's lines into a scratch table, committed, with no validation."""

    def run():
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("create temp table _copy (raw text) on commit drop")
            with cur.copy("copy _copy (raw) from stdin") as copy, open(path, "rb") as f:
                copy_jsonl(copy, iter(lambda: f.read(4 << 20), b""))

    return timed(run)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders-per-day", type=int, default=34_000)
    parser.add_argument("--skus", type=int, default=2_000)
    args = parser.parse_args()

    settings = fresh_state("bench")
    home = settings.state_dir

    cfg = SimConfig(orders_per_day=args.orders_per_day, n_skus=args.skus, n_warehouses=3)
    manifest, gen_s = timed(lambda: write_workload(generate(cfg), home / "sim"))
    wms = home / "sim" / "wms_events.jsonl"
    lines = manifest["files"]["wms_events.jsonl"]["received"]
    size_mb = wms.stat().st_size / 1e6
    print(machine())
    print(
        f"workload: {lines:,} WMS events, {size_mb:,.0f} MB JSON Lines (generated in {gen_s:.1f} s)"
    )

    with connect(settings) as conn:
        for kind, name in (("skus", "skus.csv"), ("uom", "uom_conversions.csv")):
            ingest_file(conn, kind, InputFile.from_arg(str(home / "sim" / name)))
        copy_s = copy_only(conn, wms)
        first = ingest_file(conn, "wms", InputFile.from_arg(str(wms)))
        rerun = ingest_file(conn, "wms", InputFile.from_arg(str(wms)))
        second_file = home / "sim" / "wms_events_next.jsonl"
        second_file.write_bytes(wms.read_bytes().replace(b'"event_id":"', b'"event_id":"N'))
        onto_history = ingest_file(conn, "wms", InputFile.from_arg(str(second_file)))

    def rate(seconds: float) -> float:
        return lines / seconds

    print(f"{'step':<44}{'seconds':>9}{'events/s':>12}{'x COPY':>9}")
    rows = [
        ("plain COPY of the lines (no validation)", copy_s),
        ("ingest into an empty landing table", first.seconds),
        ("ingest a second file onto that history", onto_history.seconds),
        ("re-run of the first file (all duplicates)", rerun.seconds),
    ]
    for label, seconds in rows:
        print(f"{label:<44}{seconds:>9.2f}{rate(seconds):>12,.0f}{copy_s / seconds:>9.2f}")
    print(
        f"first ingest: accepted {first.accepted:,}, duplicates {first.duplicates:,}, "
        f"quarantined {first.quarantined:,}; re-run: accepted {rerun.accepted:,}, "
        f"duplicates {rerun.duplicates:,}, quarantined {rerun.quarantined:,}"
    )
    print(f"target >= 50,000 events/s: {'met' if rate(first.seconds) >= 50_000 else 'MISSED'}")
    EmbeddedServer(settings).stop()


if __name__ == "__main__":
    main()
