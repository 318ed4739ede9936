"""Production: work orders run in batches at work centers, consume components, scrap some."""

from __future__ import annotations

import math
import random

from dagster_project.core.simulate.clock import DAY, HOUR, MINUTE, PLANT_HOURS
from dagster_project.core.simulate.engine import SimCore


class Production(SimCore):
    """Makes what the plant runs short of; each batch issues components, then completes."""

    def _setup_production(self) -> None:
        plant = self.plant
        self.wc_index = {wc: i for i, wc in enumerate(plant.work_centers)}
        wc_rng = random.Random(f"{self.cfg.seed}:wc")
        self.wc_cycle = [wc_rng.uniform(25, 70) * MINUTE for _ in plant.work_centers]
        self.wc_scrap = [wc_rng.uniform(0.002, 0.01) for _ in plant.work_centers]
        self.next_burst = [
            self.t0 + int(wc_rng.expovariate(1 / 5) * DAY) for _ in plant.work_centers
        ]
        self.burst_until = [0] * len(plant.work_centers)
        self.burst_rate = [0.0] * len(plant.work_centers)

    def _work_order(self, p: int, want: float) -> None:
        lot = 10 if want >= 40 else 1
        qty = max(1, math.ceil(want / lot) * lot)
        batches = self.rng.randint(6, 14)
        wo = [self._next_id("WO", 6), p, qty, max(1, math.ceil(qty / batches))]
        self.inbound[p] += qty
        start = PLANT_HOURS.next_open(self.now + int(self.rng.uniform(0.5, 3) * HOUR))
        self._at(start, self._batch, wo)

    def _batch(self, wo: list) -> None:
        """Starts as much of the next batch as the components on hand allow, else waits."""
        if not PLANT_HOURS.is_open(self.now):
            self._at(PLANT_HOURS.next_open(self.now), self._batch, wo)
            return
        _, p, remaining, size = wo
        sku = self.skus[p // self.n_loc]
        base = self.plant_loc
        qty = min(remaining, size)
        for c, per in sku.bom:
            qty = min(qty, int(self._available(c * self.n_loc + base) / per + 1e-9))
        if qty < 1:
            for c, per in sku.bom:
                self._check(c * self.n_loc + base, need=per * min(remaining, size))
            self._at(self.now + 2 * HOUR, self._batch, wo)
            return
        for c, per in sku.bom:
            q = c * self.n_loc + base
            used = qty * per
            self.on_hand[q] -= used
            uom = self.skus[c].base_uom if self.rng.random() < 0.1 else None
            self._wms("issue", q, -used, uom=uom, ref=wo[0])
            self._check(q)
        self._mes("start", wo, qty, None)
        wc = self.wc_index[sku.work_center]
        cycle = int(self.wc_cycle[wc] * self.rng.uniform(0.8, 1.25))
        self._at(self.now + cycle, self._batch_done, (wo, qty))

    def _batch_done(self, arg: tuple[list, int]) -> None:
        wo, qty = arg
        p = wo[1]
        sku = self.skus[p // self.n_loc]
        wc = self.wc_index[sku.work_center]
        burst = self._burst(wc)
        scrap = int(self.np_rng.binomial(qty, burst or self.wc_scrap[wc]))
        good = qty - scrap
        if scrap and self.rng.random() < 0.3:
            self._mes("scrap", wo, 0, scrap)
            self._mes("complete", wo, good, None)
        elif scrap:
            self._mes("complete", wo, good, scrap)
        else:
            self._mes("complete", wo, good, 0 if self.rng.random() < 0.3 else None)
        self.inbound[p] -= qty
        if good:
            self.on_hand[p] += good
            self._wms("receipt", p, good, cost=sku.std_cost, ref=wo[0])
            if burst:
                self._hold(p, good, wo[0], self.rng.uniform(4, 24))
        wo[2] -= qty
        if wo[2] > 0:
            self._at(self.now + self.rng.randrange(1, 10 * MINUTE), self._batch, wo)
        self._check(p)

    def _burst(self, wc: int) -> float | None:
        """Scrap rate of a burst under way on the work center; one starts with the first batch
        after its due time and lasts a few hours."""
        if self.now < self.burst_until[wc]:
            return self.burst_rate[wc]
        if self.now < self.next_burst[wc]:
            return None
        self.burst_until[wc] = self.now + self.rng.randint(2, 4) * HOUR
        self.burst_rate[wc] = self.rng.uniform(0.08, 0.25)
        self.next_burst[wc] = self.burst_until[wc] + int(self.rng.expovariate(1 / 5) * DAY)
        return self.burst_rate[wc]
