"""Knobs of the simulated plant and its event streams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class SimConfig:
    """One workload is a pure function of this config.

    Volume scales with `orders_per_day` (order lines per day, averaged over the week) and
    `n_skus`; the WMS stream carries roughly three events per order line plus replenishment,
    production and quality traffic.
    """

    seed: int = 42
    start: datetime = datetime(2026, 11, 2, tzinfo=UTC)
    days: int = 7
    n_skus: int = 60
    n_warehouses: int = 2
    n_work_centers: int = 4
    orders_per_day: int = 400
    bad_share: float = 0.02
    duplicate_share: float = 0.01
    late_share: float = 0.02

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if self.days < 1 or self.n_skus < 4 or self.n_warehouses < 1 or self.n_work_centers < 1:
            raise ValueError("days >= 1, n_skus >= 4, n_warehouses >= 1, n_work_centers >= 1")
        if self.orders_per_day < 0:
            raise ValueError("orders_per_day must be >= 0")
        for name in ("bad_share", "duplicate_share", "late_share"):
            if not 0.0 <= getattr(self, name) < 0.5:
                raise ValueError(f"{name} must be in [0, 0.5)")
