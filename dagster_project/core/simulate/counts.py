"""Cycle counts during working hours: the true stock, now and then short or miscounted."""

from __future__ import annotations

from dagster_project.core.simulate.clock import COUNT_HOURS, DAY, HOUR, weekday
from dagster_project.core.simulate.engine import SimCore

COUNTERS = ["amaya", "bjorn", "chen", "dara", "eli", "farah", "goran", "hana"]


class Counting(SimCore):
    """Counted shortfalls are real shrinkage, so later issues never rely on stock that is gone;
    surpluses are miscounts and add nothing the simulation could issue."""

    def _count_day(self, day: int) -> None:
        """Plans a working day's counts over pairs that have moved, A items most often."""
        self._at(day + DAY, self._count_day, day + DAY)
        if weekday(day) >= 5 or not self.touched:
            return
        weight = {"A": 4.0, "B": 2.0, "C": 1.0}
        pairs = self.touched
        w = [weight.get(self.skus[p // self.n_loc].abc_class or "", 1.5) for p in pairs]
        n = max(3, round(len(self.lo) * 0.05))
        for p in self.rng.choices(pairs, weights=w, k=n):
            t = day + 7 * HOUR + self.rng.randrange(12 * HOUR)
            if COUNT_HOURS.is_open(t) and t >= self.now:
                self._at(t, self._count, p)

    def _count(self, p: int) -> None:
        t = self._tick()
        sku, rng = self.skus[p // self.n_loc], self.rng
        true = self.on_hand[p]
        counted = true
        r = rng.random()
        if r >= 0.75 and true > 0:
            share = rng.uniform(0.0, 0.01) if r < 0.88 else rng.uniform(0.02, 0.08)
            delta = max(sku.step, self._round(sku, true * share))
            if rng.random() < 0.65:
                delta = min(delta, self._available(p))
                self.on_hand[p] -= delta
                counted = true - delta
            else:
                counted = true + delta
        self.count_rows.append(
            {
                "count_id": self._next_id("CC", 6),
                "sku_id": sku.sku_id,
                "location_id": self.loc_ids[p % self.n_loc],
                "counted_qty": counted,
                "counted_at": self._stamp(t),
                "counted_by": COUNTERS[(p * 7 + t // DAY) % 8],
            }
        )
        self._check(p)
