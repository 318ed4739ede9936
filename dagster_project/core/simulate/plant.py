"""Reference data of the simulated plant: SKUs, BOMs, pack sizes, locations and planning params."""

from __future__ import annotations

import random
from dataclasses import dataclass

from dagster_project.core.simulate.config import SimConfig

PLANT_LOCATION = "PLANT-01"
KINDS_SOLD = ("fg", "trade")

_RAW_EA = [
    "Hex bolt M{}x{}",
    "Ball bearing 62{:02d}-2RS",
    "O-ring {}x{} NBR",
    "Circlip DIN471-{}",
    "Shaft seal {}x{}",
    "Gasket set G-{}",
    "Sensor PT{}",
    "Terminal block TB-{}",
]
_RAW_KG = [
    "Steel sheet S235 {}mm",
    "Epoxy resin ER-{}",
    "Powder coating RAL {}",
    "Aluminium bar {}mm",
    "Cast iron blank CB-{}",
    "PA6 granulate GF{}",
]
_RAW_M = ["Copper cable {}x{}mm2", "Hydraulic hose DN{}", "PVC tube {}mm", "Steel wire {}mm"]
_MADE = [
    "Centrifugal pump CP-{}",
    "Gear motor GM-{}",
    "Valve body VB-{}",
    "Control cabinet CC-{}",
    "Hydraulic unit HU-{}",
    "Compressor head CH-{}",
    "Fan assembly FA-{}",
    "Mixer drive MD-{}",
]
_SUB = [
    "Rotor subassembly RS-{}",
    "Motor stator MS-{}",
    "Wiring harness WH-{}",
    "Pump housing PH-{}",
]
_TRADE = ["Service kit SK-{}", "Spare impeller SI-{}", "Filter cartridge FC-{}", "Seal kit KT-{}"]


@dataclass(frozen=True)
class Sku:
    index: int
    sku_id: str
    description: str
    base_uom: str
    kind: str  # fg: made and sold; sa: made and consumed; raw: bought and consumed; trade: resold
    abc_class: str | None
    step: float  # quantity granularity in base units
    std_cost: float
    demand_weight: float  # share of order lines; 0 for items that are not sold
    line_mean: float  # mean order-line quantity, base units
    packs: tuple[tuple[str, int], ...]  # (uom, factor_to_base), smallest first
    lead_time_days: float
    work_center: str | None
    bom: tuple[tuple[int, float], ...]  # (component index, quantity per unit)
    bom_level: int | None


@dataclass(frozen=True)
class Supplier:
    """Delivers after `lead_time_days * factor`, factor drawn uniformly in [early, late]: a
    reliable supplier stays below 1 (on time), the unreliable one is mostly above."""

    supplier_id: str
    early: float
    late: float

    def factor(self, u: float) -> float:
        """The lead-time factor for a uniform draw `u` in [0, 1)."""
        return self.early + (self.late - self.early) * u


# Few suppliers with distinct reliability, so measured lead times and on-time rates differ.
SUPPLIER_PROFILES = ((0.7, 0.95), (0.75, 1.1), (0.7, 1.35), (1.0, 1.8))


@dataclass(frozen=True)
class Plant:
    skus: tuple[Sku, ...]
    warehouses: tuple[str, ...]
    work_centers: tuple[str, ...]
    warehouse_weights: tuple[float, ...]  # share of demand per warehouse
    sku_params: tuple[dict, ...]
    suppliers: tuple[Supplier, ...] = ()
    # supplier index per SKU index: bought SKUs (raw, trade) from their supplier; made ones
    # from a subcontractor when a planner outside the plant orders them (the ERP loop)
    supplier_of: tuple[int, ...] = ()

    def supplier(self, sku: Sku) -> Supplier:
        return self.suppliers[self.supplier_of[sku.index]]

    @property
    def locations(self) -> tuple[str, ...]:
        return (*self.warehouses, PLANT_LOCATION)

    @property
    def plant_index(self) -> int:
        return len(self.warehouses)

    def sold(self) -> list[Sku]:
        return [s for s in self.skus if s.kind in KINDS_SOLD]

    def sku_rows(self) -> list[dict]:
        return [
            {
                "sku_id": s.sku_id,
                "description": s.description,
                "base_uom": s.base_uom,
                "abc_class": s.abc_class or "",
            }
            for s in self.skus
        ]

    def conversion_rows(self) -> list[dict]:
        return [
            {"sku_id": s.sku_id, "uom": uom, "factor_to_base": factor}
            for s in self.skus
            for uom, factor in s.packs
        ]


def build_plant(cfg: SimConfig) -> Plant:
    rng = random.Random(f"{cfg.seed}:plant")
    n = cfg.n_skus
    n_fg = max(1, round(0.3 * n))
    n_trade = max(1, round(0.1 * n))
    n_sa = round(0.1 * n) if n >= 10 else 0
    kinds = ["fg"] * n_fg + ["trade"] * n_trade + ["sa"] * n_sa
    kinds += ["raw"] * (n - len(kinds))
    rng.shuffle(kinds)
    work_centers = tuple(f"WC-{i + 1:02d}" for i in range(cfg.n_work_centers))
    warehouses = tuple(f"WH-{i + 1:02d}" for i in range(cfg.n_warehouses))
    weights = [1 / (i + 1) ** 0.6 for i in range(cfg.n_warehouses)]
    warehouse_weights = tuple(w / sum(weights) for w in weights)

    raw_idx = [i for i, k in enumerate(kinds) if k == "raw"]
    sa_idx = [i for i, k in enumerate(kinds) if k == "sa"]
    sold_idx = [i for i, k in enumerate(kinds) if k in KINDS_SOLD]
    ranks = list(range(1, len(sold_idx) + 1))
    rng.shuffle(ranks)
    popularity = {i: 1 / r**1.1 for i, r in zip(sold_idx, ranks, strict=True)}
    total_pop = sum(popularity.values())

    base_uoms: list[str] = []
    for k in kinds:
        if k == "raw":
            base_uoms.append(rng.choices(["EA", "KG", "M"], [0.6, 0.25, 0.15])[0])
        elif k == "fg":
            base_uoms.append("KG" if rng.random() < 0.1 else "EA")
        else:
            base_uoms.append("EA")

    boms: list[tuple[tuple[int, float], ...]] = []
    for k in kinds:
        if k not in ("fg", "sa"):
            boms.append(())
            continue
        pool = list(raw_idx)
        comps = rng.sample(pool, min(len(pool), rng.randint(2, 4 if k == "sa" else 5)))
        if k == "fg" and sa_idx and rng.random() < 0.5:
            comps.append(rng.choice(sa_idx))
        boms.append(tuple((c, _per_unit(rng, base_uoms[c])) for c in comps))

    costs = [0.0] * n
    for i, k in enumerate(kinds):
        if k == "raw":
            lo, hi = {"EA": (0.05, 40.0), "KG": (1.5, 25.0), "M": (0.3, 12.0)}[base_uoms[i]]
            costs[i] = round(lo * (hi / lo) ** rng.random(), 2)
        elif k == "trade":
            costs[i] = round(5 * 30 ** rng.random(), 2)
    for level in ("sa", "fg"):
        for i, k in enumerate(kinds):
            if k == level:
                material = sum(costs[c] * q for c, q in boms[i])
                costs[i] = round(material * rng.uniform(1.2, 1.5) + rng.uniform(2, 20), 2)

    line_means = [0.0] * n
    usage = [0.0] * n
    for i in sold_idx:
        line_means[i] = (
            rng.choice([1, 1, 2, 2, 3, 4, 6, 8, 12])
            if base_uoms[i] == "EA"
            else (rng.choice([2.5, 5.0, 10.0, 20.0]))
        )
        usage[i] = popularity[i] / total_pop * line_means[i]
    for level in ("fg", "sa"):
        for i, k in enumerate(kinds):
            if k == level:
                for c, q in boms[i]:
                    usage[c] += usage[i] * q
    abc = _abc_classes(rng, [u * c for u, c in zip(usage, costs, strict=True)])

    made_centers = {i: rng.choice(work_centers) for i, k in enumerate(kinds) if k in ("fg", "sa")}
    skus = []
    for i, k in enumerate(kinds):
        base = base_uoms[i]
        lead = {"raw": rng.uniform(1, 4), "trade": rng.uniform(2, 5)}.get(k, rng.uniform(1, 2))
        skus.append(
            Sku(
                index=i,
                sku_id=f"SKU-{i + 1:05d}",
                description=_description(rng, k, base, i),
                base_uom=base,
                kind=k,
                abc_class=abc[i],
                step=1 if base == "EA" or k in ("fg", "sa") else 0.25,
                std_cost=max(costs[i], 0.05),
                demand_weight=popularity.get(i, 0.0) / total_pop,
                line_mean=line_means[i],
                packs=_packs(rng, k, base),
                lead_time_days=round(lead, 1),
                work_center=made_centers.get(i),
                bom=boms[i],
                bom_level={"fg": 0, "sa": 1}.get(k),
            )
        )
    skus_t = tuple(skus)
    params = _sku_params(rng, skus_t, warehouses, cfg.orders_per_day)
    suppliers, supplier_of = _suppliers(cfg, skus_t)
    return Plant(
        skus_t, warehouses, work_centers, warehouse_weights, params, suppliers, supplier_of
    )


def _suppliers(
    cfg: SimConfig, skus: tuple[Sku, ...]
) -> tuple[tuple[Supplier, ...], tuple[int, ...]]:
    """Every SKU gets one supplier, bought ones spread so each supplier has some. A generator of
    its own, so the plant's other reference data are what they were before suppliers."""
    rng = random.Random(f"{cfg.seed}:suppliers")
    suppliers = tuple(
        Supplier(f"SUP-{i + 1:02d}", early, late)
        for i, (early, late) in enumerate(SUPPLIER_PROFILES)
    )
    bought = [s.index for s in skus if s.kind in ("raw", "trade")]
    rng.shuffle(bought)
    supplier_of = [0] * len(skus)
    for n, i in enumerate(bought):
        supplier_of[i] = n % len(suppliers)
    for s in skus:
        if s.kind not in ("raw", "trade"):
            supplier_of[s.index] = rng.randrange(len(suppliers))
    return suppliers, tuple(supplier_of)


def _per_unit(rng: random.Random, base: str) -> float:
    if base == "EA":
        return rng.choice([1, 1, 2, 2, 3, 4, 6, 8])
    if base == "KG":
        return rng.choice([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.5])
    return rng.choice([0.5, 0.75, 1.0, 1.5, 2.25, 3.0])


def _abc_classes(rng: random.Random, values: list[float]) -> list[str | None]:
    order = sorted(range(len(values)), key=lambda i: (-values[i], i))
    total = sum(values) or 1.0
    out: list[str | None] = [None] * len(values)
    running = 0.0
    for i in order:
        running += values[i]
        share = running / total
        out[i] = "A" if share <= 0.8 or running == values[i] else "B" if share <= 0.95 else "C"
        if rng.random() < 0.05:
            out[i] = None
    return out


def _packs(rng: random.Random, kind: str, base: str) -> tuple[tuple[str, int], ...]:
    if base == "KG":
        r = rng.random()
        return (("BAG", 25),) if r < 0.55 else (("DRUM", 200),) if r < 0.8 else ()
    if base == "M":
        r = rng.random()
        return (("ROLL", 100),) if r < 0.5 else (("SPOOL", 500),) if r < 0.75 else ()
    if rng.random() < 0.25:
        return ()
    if kind == "raw" and rng.random() < 0.4:
        box = rng.choice([50, 100, 200])
        return (("BOX", box),)
    case = rng.choice([6, 12, 12, 24])
    packs = [("CS", case)]
    if rng.random() < 0.5:
        packs.append(("PAL", case * rng.choice([20, 40])))
    return tuple(packs)


def _description(rng: random.Random, kind: str, base: str, i: int) -> str:
    if kind == "fg":
        pattern = rng.choice(_MADE)
    elif kind == "sa":
        pattern = rng.choice(_SUB)
    elif kind == "trade":
        pattern = rng.choice(_TRADE)
    else:
        pattern = rng.choice({"EA": _RAW_EA, "KG": _RAW_KG, "M": _RAW_M}[base])
    holes = pattern.count("{}") + pattern.count("{:02d}")
    args = [rng.choice([4, 6, 8, 10, 12, 16, 20, 25, 30, 40, 50, 100])] * holes
    if holes:
        args[0] = 100 + i if kind in ("fg", "sa", "trade") else args[0]
    return pattern.format(*args)


def _sku_params(
    rng: random.Random, skus: tuple[Sku, ...], warehouses: tuple[str, ...], orders_per_day: int
) -> tuple[dict, ...]:
    rows = []
    service = {"A": 0.98, "B": 0.95, "C": 0.9}

    def row(sku: Sku, location: str) -> dict:
        weekly = max(1, round(orders_per_day * sku.demand_weight * sku.line_mean * 7))
        case = sku.packs[0][1] if sku.packs else None
        r = {"sku_id": sku.sku_id, "location_id": location}
        r["lead_time_days"] = round(sku.lead_time_days) if rng.random() < 0.7 else ""
        r["lead_time_std_days"] = rng.choice([0.5, 1, 1.5, 2]) if rng.random() < 0.4 else ""
        r["service_level"] = service.get(sku.abc_class or "", 0.95) if rng.random() < 0.5 else ""
        r["reorder_point"] = weekly if sku.demand_weight and rng.random() < 0.04 else ""
        r["safety_stock"] = max(1, weekly // 3) if sku.demand_weight and rng.random() < 0.05 else ""
        r["order_qty"] = weekly * 2 if sku.demand_weight and rng.random() < 0.05 else ""
        r["order_multiple"] = case if case and rng.random() < 0.6 else ""
        r["min_order_qty"] = (case or 10) * rng.choice([2, 5, 10]) if rng.random() < 0.2 else ""
        r["review_period_days"] = rng.choice([1, 3, 7, 14]) if rng.random() < 0.2 else ""
        r["max_days_of_cover"] = rng.choice([30, 60, 120]) if rng.random() < 0.25 else ""
        return r

    for sku in skus:
        if rng.random() < 0.85:
            rows.append(row(sku, ""))
        if sku.kind in KINDS_SOLD:
            for wh in warehouses:
                if rng.random() < 0.12:
                    rows.append(row(sku, wh))
        elif sku.kind == "raw" and rng.random() < 0.1:
            rows.append(row(sku, PLANT_LOCATION))
    return tuple(rows)
