"""An endless, deterministic feed of the same plant for live mode, in arrival order."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from dagster_project.core.simulate.clock import HOUR, to_ms
from dagster_project.core.simulate.config import SimConfig
from dagster_project.core.simulate.corrupt import BAD_KINDS, Corruptor, resend_dict
from dagster_project.core.simulate.planner import Request
from dagster_project.core.simulate.plant import build_plant
from dagster_project.core.simulate.sim import PlantSim

# A versioned line's first status: its re-send or conflict could arrive after its next version.
FIRST_VERSION_STATUS = {"placed", "open"}


def live_records(
    cfg: SimConfig,
    start: datetime,
    *,
    time_scale: float = 1.0,
    requests: Callable[[], Iterable[Request]] | None = None,
) -> Iterator[tuple[str, dict]]:
    """Yields `(source, record)` forever, source in {"wms", "mes", "orders", "po"}, in order.

    Timestamps are `start + time_scale * simulated elapsed time`, so 0.1 packs a simulated day
    into 2.4 hours. At time_scale 1 every record has its own millisecond; a caller that restamps
    records should keep the stamps increasing and distinct, or two versions of one order line
    may share an `updated_at` and read as a conflict. Ids carry a tag from `start`, so they never
    collide with a batch workload or a run started at another second. Bad records (never
    malformed text) and re-sends follow `bad_share` and `duplicate_share`; a re-send repeats the
    record as yielded, so restamping it turns it into a conflict.

    `requests`, the ERP loop: called every simulated hour, it returns the replenishment
    requests open now (it may return none until it looks again); the plant's planner orders
    each request once, and the supplier delivers it (a receipt referencing the PO).
    """
    if cfg.orders_per_day <= 0:
        raise ValueError("live mode needs orders_per_day > 0")
    plant = build_plant(cfg)
    buffer: list[tuple[str, dict]] = []
    start_ms = to_ms(start)
    tag = datetime.fromtimestamp(start_ms / 1000, UTC).strftime("%Y%m%d%H%M%S") + "-"
    sim = PlantSim(
        cfg,
        plant,
        lambda source, _, rec: buffer.append((source, rec)),
        start_ms=start_ms,
        end_ms=None,
        id_tag=tag,
        time_scale=time_scale,
        counts=False,
    )
    sim.begin()
    rng = random.Random(f"{cfg.seed}:live")
    corruptors = {
        s: Corruptor(s, plant, random.Random(f"{cfg.seed}:live:{s}"), tag) for s in BAD_KINDS
    }
    horizon = start_ms
    ordered: set[int] = set()
    while True:
        horizon += HOUR
        for request in requests() if requests is not None else ():
            if request.request_id not in ordered:
                ordered.add(request.request_id)
                sim.order_for_request(request.sku_id, request.location_id, request.qty)
        sim.run_until(horizon)
        for source, rec in buffer:
            yield source, rec
            r = rng.random()
            final = rec.get("status") not in FIRST_VERSION_STATUS
            if r < cfg.bad_share:
                kind = rng.choice(BAD_KINDS[source])
                corruptor = corruptors[source]
                if (kind != "conflict" or final) and corruptor.needs(kind, rec):
                    payload = corruptor.bad(kind, rec)
                    if isinstance(payload, dict):
                        yield source, payload
            elif r < cfg.bad_share + cfg.duplicate_share and final:
                yield source, resend_dict(rec, rng)
        buffer.clear()
