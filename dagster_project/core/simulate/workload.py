"""A simulated week in memory: reference rows plus the event streams in arrival order."""

from __future__ import annotations

import gc
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dagster_project.core.simulate.arrival import SCANNED_TYPES, offline_arrivals
from dagster_project.core.simulate.clock import DAY, HOUR, to_ms
from dagster_project.core.simulate.config import SimConfig
from dagster_project.core.simulate.corrupt import BAD_KINDS, Corruptor
from dagster_project.core.simulate.plant import Plant, build_plant
from dagster_project.core.simulate.sim import PlantSim

FILE_NAMES = {
    "wms": "wms_events.jsonl",
    "mes": "mes_events.jsonl",
    "orders": "order_lines.jsonl",
    "po": "purchase_orders.jsonl",
}
# Versioned records (a later version replaces the earlier): source -> the key of a line.
LINE_KEY = {"orders": ("order_id", "line_id"), "po": ("po_id", "line_id")}
DEVICE_KEY = {"wms": "location_id", "mes": "work_center_id"}
RESEND_WINDOW = 12 * HOUR


@dataclass
class Stream:
    """One input file: `lines[i]` is a record (dict) or raw text, `labels[i]` what it is:
    `ok`, `late` (accepted, delivered out of order), `duplicate`, or `bad:<kind>`."""

    source: str
    file_name: str
    lines: list[dict | str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        counts = Counter(self.labels)
        bad = {k[4:]: n for k, n in sorted(counts.items()) if k.startswith("bad:")}
        return {
            "source": self.source,
            "received": len(self.lines),
            "accepted": counts["ok"] + counts["late"],
            "duplicates": counts["duplicate"],
            "quarantined": sum(bad.values()),
            "quarantined_by_kind": bad,
            "late": counts["late"],
        }


@dataclass
class Workload:
    config: SimConfig
    plant: Plant
    skus: list[dict]
    uom_conversions: list[dict]
    sku_params: list[dict]
    physical_counts: list[dict]
    streams: dict[str, Stream]


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Millions of long-lived event dicts would be rescanned by every full collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def generate(cfg: SimConfig) -> Workload:
    with _without_cyclic_gc():
        return _generate(cfg)


def _generate(cfg: SimConfig) -> Workload:
    plant = build_plant(cfg)
    stamps: dict[str, list[int]] = {s: [] for s in FILE_NAMES}
    records: dict[str, list[dict]] = {s: [] for s in FILE_NAMES}
    sinks = {s: (stamps[s].append, records[s].append) for s in FILE_NAMES}

    def emit(source: str, ts: int, rec: dict) -> None:
        add_ts, add_rec = sinks[source]
        add_ts(ts)
        add_rec(rec)

    start = to_ms(cfg.start)
    end = start + cfg.days * DAY
    sim = PlantSim(cfg, plant, emit, start_ms=start, end_ms=end)
    sim.begin()
    sim.run_until(end)
    streams = {s: _deliver(cfg, plant, s, stamps[s], records[s]) for s in FILE_NAMES}
    return Workload(
        cfg,
        plant,
        plant.sku_rows(),
        plant.conversion_rows(),
        list(plant.sku_params),
        sim.count_rows,
        streams,
    )


def _deliver(cfg: SimConfig, plant: Plant, source: str, ts: list[int], recs: list[dict]) -> Stream:
    """Arrival order of one stream: clean records (some late), bad records and re-sends."""
    rng = random.Random(f"{cfg.seed}:deliver:{source}")
    if source in LINE_KEY:  # ERP records: sent as they happen
        arrivals = ts
    else:
        scanned = SCANNED_TYPES if source == "wms" else None
        arrivals = offline_arrivals(
            ts, recs, share=cfg.late_share, rng=rng, device_key=DEVICE_KEY[source], scanned=scanned
        )
    n = len(recs)
    entries: list[tuple[int, int, int, dict | str, str]] = [
        (arrivals[i], i, ts[i], recs[i], "ok") for i in range(n)
    ]
    if n:
        entries += _inject(cfg, plant, source, ts, recs, arrivals, rng)
    entries.sort()
    stream = Stream(source, FILE_NAMES[source])
    newest = -1
    for _, _, stamp, payload, label in entries:
        if label == "ok":
            if stamp < newest:
                label = "late"
            else:
                newest = stamp
        stream.lines.append(payload)
        stream.labels.append(label)
    return stream


def _inject(
    cfg: SimConfig,
    plant: Plant,
    source: str,
    ts: list[int],
    recs: list[dict],
    arrivals: list[int],
    rng: random.Random,
) -> list[tuple]:
    n = len(recs)
    corruptor = Corruptor(source, plant, random.Random(f"{cfg.seed}:corrupt:{source}"))
    horizon = (
        _next_version_arrival(recs, arrivals, LINE_KEY[source]) if source in LINE_KEY else None
    )
    first, last = min(arrivals), max(arrivals)
    used: set[int] = set()

    def later(i: int) -> int | None:
        """An arrival after record i's, and before the next version of its line."""
        lo = arrivals[i] + 1
        hi = arrivals[i] + RESEND_WINDOW
        if horizon is not None:
            hi = min(hi, horizon[i] - 1)
        return rng.randint(lo, hi) if hi >= lo else None

    def pick(accept) -> int | None:
        for _ in range(100):
            i = rng.randrange(n)
            if i not in used and accept(recs[i]):
                return i
        return None

    out = []
    seq = n
    kinds = list(BAD_KINDS[source])
    rng.shuffle(kinds)
    for j in range(_share(cfg.bad_share, n)):
        kind = kinds[j % len(kinds)]
        i = pick(lambda r, k=kind: corruptor.needs(k, r))
        if i is None:
            kind, i = "malformed", rng.randrange(n)
        arrival = rng.randint(first, last)
        if kind == "conflict":
            arrival = later(i)
            if arrival is None:
                continue
            used.add(i)
        out.append((arrival, seq, ts[i], corruptor.bad(kind, recs[i]), f"bad:{kind}"))
        seq += 1
    for _ in range(_share(cfg.duplicate_share, n)):
        i = pick(lambda r: True)
        arrival = None if i is None else later(i)
        if arrival is None:
            continue
        used.add(i)
        out.append((arrival, seq, ts[i], corruptor.resend(recs[i]), "duplicate"))
        seq += 1
    return out


def _share(share: float, n: int) -> int:
    """At least one when asked for any: a small stream (purchase orders) still gets bad records
    and re-sends."""
    return max(1, round(share * n)) if share > 0 and n > 0 else 0


def _next_version_arrival(
    recs: list[dict], arrivals: list[int], line_key: tuple[str, str]
) -> list[int]:
    nxt = [2**62] * len(recs)
    seen: dict[tuple[object, object], int] = {}
    a, b = line_key
    for i in range(len(recs) - 1, -1, -1):
        key = (recs[i][a], recs[i][b])
        if key in seen:
            nxt[i] = arrivals[seen[key]]
        seen[key] = i
    return nxt
