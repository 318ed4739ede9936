"""When each clean event reaches the platform: on time, or late from an offline scanner."""

from __future__ import annotations

import random
from bisect import bisect_left
from collections import defaultdict

from dagster_project.core.simulate.clock import MINUTE

SCANNED_TYPES = frozenset(
    {"receipt", "issue", "transfer_out", "transfer_in", "return", "hold", "release", "adjust"}
)


def offline_arrivals(
    ts: list[int],
    records: list[dict],
    *,
    share: float,
    rng: random.Random,
    device_key: str,
    scanned: frozenset[str] | None = None,
) -> list[int]:
    """Arrival instant per record: its own timestamp, or, for records captured by a device that
    went offline, the moment the device came back and uploaded its backlog in order."""
    arrivals = list(ts)
    target = round(share * len(records))
    by_device: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(records):
        if scanned is None or rec.get("event_type") in scanned:
            by_device[rec[device_key]].append(i)
    eligible = [i for idxs in by_device.values() for i in idxs]
    if not target or not eligible:
        return arrivals
    device_ts = {dev: [ts[i] for i in idxs] for dev, idxs in by_device.items()}
    late = [False] * len(records)
    done, attempts = 0, 0
    while done < target and attempts < 20 * target:
        attempts += 1
        anchor = rng.choice(eligible)
        dev = records[anchor][device_key]
        idxs, times = by_device[dev], device_ts[dev]
        window_end = ts[anchor] + rng.randrange(30 * MINUTE, 180 * MINUTE)
        back_online = window_end + rng.randrange(5 * MINUTE, 90 * MINUTE)
        upload = [
            i
            for i in idxs[bisect_left(times, ts[anchor]) : bisect_left(times, window_end)]
            if not late[i]
        ][: target - done]
        for k, i in enumerate(upload):
            late[i] = True
            arrivals[i] = back_online + k
        done += len(upload)
    return arrivals
