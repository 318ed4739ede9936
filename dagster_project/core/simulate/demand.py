"""Demand: order lines with weekday and hourly seasonality and promotions; shipping and returns."""

from __future__ import annotations

import random
from itertools import accumulate

from dagster_project.core.simulate.clock import (
    DAY,
    HOUR,
    MINUTE,
    WAREHOUSE_HOURS,
    hour_of_day,
    weekday,
)
from dagster_project.core.simulate.engine import SimCore
from dagster_project.core.simulate.plant import Sku

WEEKDAY_FACTOR = [1.12, 1.08, 1.04, 1.02, 0.98, 0.42, 0.2]
_norm = 7 / sum(WEEKDAY_FACTOR)
WEEKDAY_FACTOR = [f * _norm for f in WEEKDAY_FACTOR]
_hourly = [
    0.15,
    0.1,
    0.08,
    0.08,
    0.1,
    0.2,
    0.45,
    0.8,
    1.1,
    1.3,
    1.35,
    1.3,
    1.2,
    1.25,
    1.3,
    1.25,
    1.1,
    0.9,
    0.75,
    0.6,
    0.5,
    0.4,
    0.3,
    0.2,
]
HOUR_SHARE = [h / sum(_hourly) for h in _hourly]
LINES_PER_ORDER = [1, 2, 3, 4, 5]
_LINES_P = [0.45, 0.25, 0.15, 0.1, 0.05]
LINES_CUM = list(accumulate(_LINES_P))
MEAN_LINES = sum(n * p for n, p in zip(LINES_PER_ORDER, _LINES_P, strict=True))


class Demand(SimCore):
    """Places order lines, reserving what is available; ships, cancels and takes returns."""

    def _setup_demand(self) -> None:
        ranked = sorted(range(len(self.sold)), key=lambda i: -self.sold[i].demand_weight)
        self.popular = ranked[: max(1, len(ranked) // 3)]
        self.wh_cum = list(accumulate(self.plant.warehouse_weights))
        self.day_mix: dict[int, tuple[list[float], float]] = {}

    def _mix(self, t: int) -> tuple[list[float], float]:
        """Cumulative SKU weights for the day, promotions included, and the volume boost."""
        day = (t - self.t0) // DAY
        if day not in self.day_mix:
            mult = [1.0] * len(self.sold)
            for week in (day // 7 - 1, day // 7):
                rng = random.Random(f"{self.cfg.seed}:promo:{week}")
                for _ in range(max(1, len(self.sold) // 12)):
                    i = self.popular[rng.randrange(len(self.popular))]
                    first = week * 7 + rng.randint(0, 5)
                    length, factor = rng.randint(2, 4), rng.uniform(2.5, 4.0)
                    if first <= day < first + length:
                        mult[i] = max(mult[i], factor)
            weights = [s.demand_weight * m for s, m in zip(self.sold, mult, strict=True)]
            if len(self.day_mix) > 64:
                self.day_mix.clear()
            self.day_mix[day] = (list(accumulate(weights)), sum(weights))
        return self.day_mix[day]

    def _demand(self, hour: int) -> None:
        _, boost = self._mix(hour)
        season = WEEKDAY_FACTOR[weekday(hour)] * HOUR_SHARE[hour_of_day(hour)]
        lines = self.cfg.orders_per_day * season * boost
        for _ in range(int(self.np_rng.poisson(lines / MEAN_LINES))):
            t = hour + self.rng.randrange(HOUR)
            if t >= self.t0:
                self._at(t, self._place, None)
        self._at(hour + HOUR, self._demand, hour + HOUR)

    def _place(self, _arg: object) -> None:
        """One order: a location, one to five distinct SKUs, each line reserved if available;
        lines that cannot be served are mostly cancelled by the customer a few hours later."""
        rng = self.rng
        cum, _ = self._mix(self.now)
        loc = rng.choices(range(len(self.wh_cum)), cum_weights=self.wh_cum)[0]
        n = rng.choices(LINES_PER_ORDER, cum_weights=LINES_CUM)[0]
        picked = list(dict.fromkeys(rng.choices(self.sold, cum_weights=cum, k=n)))
        order_id = self._next_id("SO", 7)
        order_ts = self._stamp(self._tick())
        for line_no, sku in enumerate(picked, 1):
            qty = self._line_qty(sku)
            p = sku.index * self.n_loc + loc
            ok = self._available(p) >= qty
            line = (order_id, line_no, sku, loc, qty, order_ts, ok)
            self._order_version(line, "placed")
            if ok:
                self.reserved[p] += qty
                self._wms("reserve", p, qty, ref=order_id)
                if rng.random() < 0.93:
                    ship = self.now + int(rng.lognormvariate(1.8, 0.6) * HOUR)
                    ship = WAREHOUSE_HOURS.next_open(ship)
                    self._at(ship + rng.randrange(90 * MINUTE), self._complete, line)
                else:
                    self._at(self.now + int(rng.uniform(0.5, 30) * HOUR), self._cancel, line)
            elif rng.random() < 0.8:
                self._at(self.now + int(rng.uniform(1, 8) * HOUR), self._cancel, line)
            self._check(p)

    def _line_qty(self, sku: Sku) -> float:
        x = sku.line_mean * self.rng.lognormvariate(-0.18, 0.6)
        if sku.step == 1:
            if sku.packs and self.rng.random() < 0.1:
                return sku.packs[0][1] * self.rng.randint(1, 3)
            return max(1, int(round(x)))
        return max(0.25, round(x * 4) / 4)

    def _complete(self, line: tuple) -> None:
        """Ships a reserved line; now and then a return follows, or damage or a find is booked."""
        _, _, sku, loc, qty, _, _ = line
        p = sku.index * self.n_loc + loc
        self.reserved[p] -= qty
        self.on_hand[p] -= qty
        self._wms("unreserve", p, -qty, ref=line[0])
        case = sku.packs[0] if sku.packs else None
        if case and qty % case[1] == 0 and self.rng.random() < 0.5:
            self._wms("issue", p, -int(qty // case[1]), uom=case[0], ref=line[0])
        else:
            self._wms("issue", p, -qty, ref=line[0])
        self._order_version(line, "completed")
        r = self.rng.random()
        if r < 0.02:
            back = WAREHOUSE_HOURS.next_open(self.now + int(self.rng.uniform(1, 5) * DAY))
            returned = min(qty, max(sku.step, self._round(sku, qty * self.rng.uniform(0.2, 1))))
            self._at(back + self.rng.randrange(2 * HOUR), self._return, (p, returned, line[0]))
        elif r < 0.023 and self._available(p) > 0:
            lost = min(self._available(p), sku.step * self.rng.randint(1, 3))
            self.on_hand[p] -= lost
            self._wms("adjust", p, -lost)
        elif r < 0.024:
            self.on_hand[p] += sku.step
            self._wms("adjust", p, sku.step)
        self._check(p)

    def _cancel(self, line: tuple) -> None:
        _, _, sku, loc, qty, _, reserved = line
        p = sku.index * self.n_loc + loc
        if reserved:
            self.reserved[p] -= qty
            self._wms("unreserve", p, -qty, ref=line[0])
        self._order_version(line, "cancelled")

    def _return(self, arg: tuple[int, float, str]) -> None:
        p, qty, order_id = arg
        self.on_hand[p] += qty
        self._wms("return", p, qty, ref=order_id)
        if self.rng.random() < 0.3:
            self._hold(p, qty, order_id, self.rng.uniform(4, 48))
