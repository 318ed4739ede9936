"""The simulated plant's state, clock and event emission, shared by the processes that drive it."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable

import numpy as np

from dagster_project.core.simulate.clock import iso
from dagster_project.core.simulate.config import SimConfig
from dagster_project.core.simulate.plant import Plant, Sku

Emit = Callable[[str, int, dict], None]


class SimCore:
    """Stock per (sku, location) pair in base units, a future-event heap and the id counters.

    Pairs are indexed `p = sku_index * n_locations + location_index`. Held and reserved never
    exceed on hand: nothing is issued, reserved, held or moved beyond what is available.
    """

    def __init__(
        self,
        cfg: SimConfig,
        plant: Plant,
        emit: Emit,
        *,
        start_ms: int,
        end_ms: int | None,
        id_tag: str = "",
        time_scale: float = 1.0,
        counts: bool = True,
    ) -> None:
        self.cfg, self.plant, self.emit = cfg, plant, emit
        self.rng = random.Random(f"{cfg.seed}:sim")
        self.np_rng = np.random.default_rng([cfg.seed, 17])
        self.t0, self.tag, self.scale = start_ms, id_tag, time_scale
        self.stop = None if end_ms is None else end_ms - 1000
        self.counts_enabled = counts
        # False: receive what was ordered, never plan more (the ERP loop's follow-up of a week)
        self.replenish = True
        self.count_rows: list[dict] = []
        self.heap: list[tuple[int, int, Callable, object]] = []
        self.seq = 0
        self.last = start_ms - 1
        self.ids = dict.fromkeys(("W", "M", "SO", "PO", "WO", "TR", "CC"), 0)
        self.now = start_ms

        self.skus = plant.skus
        self.n_loc = len(plant.locations)
        self.plant_loc = plant.plant_index
        self.loc_ids = plant.locations
        # the second warehouse runs another WMS release that writes `+00:00` instead of `Z`
        self.loc_zulu = [i != 1 for i in range(self.n_loc)]
        n_pairs = len(self.skus) * self.n_loc
        self.on_hand: list[float] = [0] * n_pairs
        self.held: list[float] = [0] * n_pairs
        self.reserved: list[float] = [0] * n_pairs
        self.inbound: list[float] = [0] * n_pairs
        self.retry_at = [0] * n_pairs
        self.lo: list[float] = [0] * n_pairs
        self.hi: list[float] = [0] * n_pairs
        self.touched: list[int] = []
        self.is_touched = [False] * n_pairs
        self.sold = plant.sold()
        self._plan_targets()

    def run_until(self, until_ms: int) -> None:
        heap = self.heap
        limit = until_ms if self.stop is None else min(until_ms, self.stop)
        while heap and heap[0][0] < limit:
            t, _, fn, arg = heapq.heappop(heap)
            self.now = t
            fn(arg)

    def _at(self, t: int, fn: Callable, arg: object) -> None:
        if self.stop is not None and t >= self.stop:
            return
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, fn, arg))

    def _tick(self) -> int:
        """Every event gets its own millisecond, so ordering by timestamp is never ambiguous."""
        t = self.now if self.now > self.last else self.last + 1
        self.last = t
        return t

    def _stamp(self, t: int, zulu: bool = True) -> str:
        if self.scale != 1.0:
            t = self.t0 + int((t - self.t0) * self.scale)
        return iso(t, zulu)

    def _next_id(self, kind: str, width: int) -> str:
        self.ids[kind] += 1
        return f"{kind}-{self.tag}{self.ids[kind]:0{width}d}"

    def _wms(
        self,
        etype: str,
        p: int,
        qty: float,
        *,
        cost: float | None = None,
        uom: str | None = None,
        ref: str | None = None,
    ) -> None:
        t = self._tick()
        sku_i, loc = divmod(p, self.n_loc)
        self.ids["W"] += 1
        rec = {
            "event_id": f"W-{self.tag}{self.ids['W']:08d}",
            "event_type": etype,
            "sku_id": self.skus[sku_i].sku_id,
            "location_id": self.loc_ids[loc],
            "qty_delta": qty,
        }
        if uom is not None:
            rec["uom"] = uom
        if cost is not None:
            rec["unit_cost"] = cost
        rec["event_ts"] = self._stamp(t, self.loc_zulu[loc])
        if ref is not None:
            rec["reference_id"] = ref
        if not self.is_touched[p]:
            self.is_touched[p] = True
            self.touched.append(p)
        self.emit("wms", t, rec)

    def _mes(self, etype: str, wo: list, qty: int, scrap: int | None) -> None:
        t = self._tick()
        sku = self.skus[wo[1] // self.n_loc]
        self.ids["M"] += 1
        rec = {
            "event_id": f"M-{self.tag}{self.ids['M']:08d}",
            "order_id": wo[0],
            "sku_id": sku.sku_id,
            "work_center_id": sku.work_center,
            "event_type": etype,
            "qty": qty,
        }
        if scrap is not None:
            rec["scrap_qty"] = scrap
        if self.rng.random() < 0.8:
            rec["bom_level"] = sku.bom_level
        rec["event_ts"] = self._stamp(t, zulu=False)
        self.emit("mes", t, rec)

    def _order_version(self, line: tuple, status: str) -> None:
        t = self._tick()
        order_id, line_no, sku, loc, qty, order_ts, _ = line
        rec = {
            "order_id": order_id,
            "line_id": line_no,
            "sku_id": sku.sku_id,
            "location_id": self.loc_ids[loc],
            "quantity": qty,
            "status": status,
            "order_ts": order_ts,
            "updated_at": self._stamp(t),
        }
        self.emit("orders", t, rec)

    def _plan_targets(self) -> None:
        """Reorder level and order-up-to level per pair from expected daily usage."""
        cfg, n_loc, skus = self.cfg, self.n_loc, self.skus
        daily = [0.0] * (len(skus) * n_loc)
        for sku in self.sold:
            base = cfg.orders_per_day * sku.demand_weight * sku.line_mean
            for w, share in enumerate(self.plant.warehouse_weights):
                daily[sku.index * n_loc + w] = base * share
                if sku.kind == "fg":
                    daily[sku.index * n_loc + self.plant_loc] += base * share
        for level in ("fg", "sa"):
            for sku in skus:
                if sku.kind == level:
                    use = daily[sku.index * n_loc + self.plant_loc]
                    for c, per in sku.bom:
                        daily[c * n_loc + self.plant_loc] += use * per
        for sku in skus:
            for loc in range(n_loc):
                p = sku.index * n_loc + loc
                at_plant = loc == self.plant_loc
                if sku.kind == "trade" and at_plant or sku.kind in ("raw", "sa") and not at_plant:
                    continue
                d = daily[p]
                if sku.kind == "fg" and not at_plant:
                    lo, span = d * 2.0, d * 4.0
                elif sku.kind in ("fg", "sa"):
                    lo, span = d * (sku.lead_time_days + 1.5), d * 2.5
                else:
                    lo, span = d * (sku.lead_time_days + 2.0), d * 6.0
                pack = sku.packs[0][1] if sku.packs else 5
                self.lo[p] = max(self._round(sku, lo), 2 * sku.step)
                self.hi[p] = self._round(sku, self.lo[p] + max(span, min(pack, 50) * sku.step))

    @staticmethod
    def _round(sku: Sku, x: float) -> float:
        """Whole units, or quarters: sums of quarters stay exact in binary floating point."""
        if sku.step == 1:
            return int(round(x))
        return round(x * 4) / 4

    def _available(self, p: int) -> float:
        return self.on_hand[p] - self.held[p] - self.reserved[p]

    def _check(self, p: int, need: float = 0) -> None:
        """Replenish a pair whose position (on hand - reserved + inbound) fell below its reorder
        level, or below `need` when a work order waits for it."""
        if not self.replenish:
            return
        position = self.on_hand[p] - self.reserved[p] + self.inbound[p]
        if position >= max(self.lo[p], need) or self.retry_at[p] > self.now:
            return
        sku = self.skus[p // self.n_loc]
        want = max(self.hi[p], need + self.lo[p]) - position
        if p % self.n_loc == self.plant_loc:
            if sku.kind in ("fg", "sa"):
                self._work_order(p, want)
            else:
                self._purchase(p, want)
        elif sku.kind == "trade":
            self._purchase(p, want)
        else:
            self._plan_transfer(p, want)

    def _purchase(self, p: int, want: float) -> None:
        raise NotImplementedError

    def _plan_transfer(self, p: int, want: float) -> None:
        raise NotImplementedError

    def _work_order(self, p: int, want: float) -> None:
        raise NotImplementedError
