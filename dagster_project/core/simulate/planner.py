"""The ERP loop's planner after a simulated week: purchase orders for the ERP's open
replenishment requests, then their receipts after each supplier's lead time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dagster_project.core.simulate.clock import to_ms
from dagster_project.core.simulate.config import SimConfig
from dagster_project.core.simulate.plant import build_plant
from dagster_project.core.simulate.sim import PlantSim


@dataclass(frozen=True)
class Request:
    """An open erp.replenishment_requests row, as the planner needs it."""

    request_id: int
    sku_id: str
    location_id: str
    qty: float


@dataclass
class FollowUp:
    """Records by source, each list in time order: `placed` when the planner orders,
    `received` (receipts, then the closed PO lines) when the suppliers deliver."""

    placed: dict[str, list[dict]] = field(default_factory=dict)
    received: dict[str, list[dict]] = field(default_factory=dict)
    placed_at_ms: int = 0  # the last PO's instant
    received_at_ms: int = 0  # the last receipt's instant (= placed_at_ms when none)


def follow_up(cfg: SimConfig, requests: list[Request], at: datetime) -> FollowUp:
    """Orders every request from its SKU's supplier (PLANNER_DELAY after `at`, in working hours)
    and runs the plant until the last delivery. Nothing else happens in that time: no demand,
    no re-ordering, no quality holds, so what changes is exactly the loop's doing. Ids carry a
    tag from `at`, apart from the week's and the live feed's; same inputs, same records."""
    plant = build_plant(cfg)
    out: dict[str, list[dict]] = {}
    stamps: list[int] = []

    def emit(source: str, ts: int, rec: dict) -> None:
        out.setdefault(source, []).append(rec)
        stamps.append(ts)

    start = to_ms(at)
    sim = PlantSim(
        cfg, plant, emit, start_ms=start, end_ms=None, id_tag=f"ERP{at:%Y%m%d%H%M}-", counts=False
    )
    sim.replenish = False
    sim.quality_holds = False
    unknown = [r for r in requests if not sim.order_for_request(r.sku_id, r.location_id, r.qty)]
    if unknown:
        raise ValueError(f"requests the simulated plant cannot order: {unknown}")
    # every placement is due at one working hour; the earliest delivery is days later
    first_due = min((t for t, *_ in sim.heap), default=start)
    sim.run_until(first_due + 1)
    result = FollowUp(placed=out, placed_at_ms=max(stamps, default=start))
    out, stamps = {}, []
    sim.run_until(2**62)
    result.received = out
    result.received_at_ms = max(stamps, default=result.placed_at_ms)
    return result
