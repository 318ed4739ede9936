"""The whole plant: supply, production, demand and cycle counts over one shared state."""

from __future__ import annotations

from dagster_project.core.simulate.clock import DAY, HOUR, MINUTE
from dagster_project.core.simulate.counts import Counting
from dagster_project.core.simulate.demand import Demand
from dagster_project.core.simulate.production import Production
from dagster_project.core.simulate.supply import Supply


class PlantSim(Demand, Supply, Production, Counting):
    """Runs the plant forward in time; every event goes to `emit(source, ts_ms, record)`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._setup_demand()
        self._setup_supply()
        self._setup_production()

    def begin(self) -> None:
        """Opening balances as receipts in the first minutes, then hourly demand and daily counts.
        Opening stock sits between the reorder and order-up-to levels, with some pairs far over
        and some under, so health statuses vary from the start."""
        rng = self.rng
        for p in range(len(self.on_hand)):
            if self.hi[p] <= 0:
                continue
            r = rng.random()
            lo, hi = self.lo[p], self.hi[p]
            if r < 0.08:
                qty = hi * rng.uniform(3, 6)
            elif r < 0.16:
                qty = lo * rng.uniform(0.2, 0.8)
            else:
                qty = rng.uniform(lo, hi)
            qty = self._round(self.skus[p // self.n_loc], qty)
            if qty > 0:
                self._at(self.t0 + rng.randrange(15 * MINUTE), self._opening, (p, qty))
        self._at(self.t0, self._demand, self.t0 - self.t0 % HOUR)
        if self.counts_enabled:
            self._at(self.t0, self._count_day, self.t0 - self.t0 % DAY)
