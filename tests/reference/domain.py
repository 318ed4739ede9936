"""The marts of DOMAIN.md computed in plain Python from the landing rows, to check the SQL against.

Written from DOMAIN.md only, for clarity rather than speed: every mart is a loop over grouped rows.

Numbers are `Decimal` (counts too), nulls are `None`, timestamps are the aware datetimes given.
The one float in the formulas is z = NormalDist().inv_cdf(service_level); it is turned into a
Decimal exactly (`Decimal(z)`), and everything else, square roots included, is done in Decimal at
the default 28 significant digits. Compare with a relative tolerance (1e-6 is ample).
The planning figures (rates, standard deviations, safety stock, reorder point, days of cover) are
shown to 4 decimals, half away from zero (`planning_figure`); the status and the order size are
judged on the shown figures and the exact demand. Compare those within one unit of the fourth
decimal: z is exact here and approximated in SQL, so a figure may round the other way.
The scrap rate is computed exactly with `Fraction`, so its rounding and threshold test are exact.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from fractions import Fraction
from statistics import NormalDist
from typing import Any

from psycopg.rows import dict_row

Row = dict[str, Any]

ZERO = Decimal(0)
PLANNING_UNIT = Decimal("0.0001")
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
EARLIEST = datetime.min.replace(tzinfo=UTC)

ON_HAND_TYPES = frozenset({"receipt", "return", "transfer_in", "issue", "transfer_out", "adjust"})
HELD_TYPES = frozenset({"hold", "release"})
RESERVED_TYPES = frozenset({"reserve", "unreserve"})

DEFAULT_PARAMS: Mapping[str, Decimal | None] = {
    "lead_time_days": Decimal(7),
    "lead_time_std_days": Decimal(0),
    "service_level": Decimal("0.95"),
    "reorder_point": None,
    "safety_stock": None,
    "order_qty": None,
    "order_multiple": Decimal(1),
    "min_order_qty": Decimal(0),
    "review_period_days": Decimal(7),
    "max_days_of_cover": Decimal(90),
}


@dataclass
class Landing:
    wms_events: list[Row] = field(default_factory=list)
    mes_events: list[Row] = field(default_factory=list)
    order_lines: list[Row] = field(default_factory=list)
    purchase_orders: list[Row] = field(default_factory=list)
    skus: list[Row] = field(default_factory=list)
    sku_params: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class Config:
    scrap_threshold_pct: Decimal = Decimal("3.0")
    scrap_thresholds: Mapping[str, Decimal] = field(default_factory=dict)
    spike_factor: Decimal = Decimal(10)
    spike_min_qty: Decimal = Decimal(100)
    spike_min_events: int = 5


DEFAULT_CONFIG = Config()


def compute_marts(
    landing: Landing,
    as_of: datetime,
    cfg: Config = DEFAULT_CONFIG,
    refreshed: Landing | None = None,
) -> dict[str, list[Row]]:
    """`refreshed`: the landing as the last refresh read it, when events arrived since. Stock and
    on order are current on read (from `landing`); the measured lead times that health takes are
    as of the last refresh (README, "The marts")."""
    params = params_index(landing.sku_params)
    po_lines = po_lines_received(landing.purchase_orders, landing.wms_events)
    on_order = on_order_by_pair(po_lines)
    position = inventory_position(landing.wms_events, on_order)
    velocity = demand_velocity(landing.order_lines, as_of)
    if refreshed is None:
        measured = measured_lead_times(po_lines, as_of)
    else:
        read = po_lines_received(refreshed.purchase_orders, refreshed.wms_events)
        measured = measured_lead_times(read, as_of)
    health = inventory_health(position, velocity, params, as_of, measured)
    episodes = stockout_episodes(landing.wms_events, as_of)
    return {
        "inventory_position": position,
        "wip_position": wip_position(landing.mes_events),
        "demand_velocity_7d": demand_velocity_7d(velocity),
        "inventory_health": health,
        "reorder_alerts": reorder_alerts(health, velocity, params, as_of, on_order),
        "inventory_turns_30d": inventory_turns_30d(landing.wms_events, position, as_of),
        "scrap_rate_alerts": scrap_rate_alerts(landing.mes_events, as_of, cfg),
        "movement_anomalies": movement_anomalies(landing.wms_events, as_of, cfg),
        "stockout_episodes": episodes,
        "stockout_frequency_30d": stockout_frequency_30d(episodes, position, as_of),
        "lead_times": lead_times(po_lines, as_of),
        "supplier_performance": supplier_performance(po_lines, as_of),
    }


def load_landing(conn: Any) -> Landing:
    """Read the landing tables (psycopg 3 connection) as `compute_marts` expects them."""

    def rows(sql: str) -> list[Row]:
        return [to_utc_row(row) for row in conn.cursor(row_factory=dict_row).execute(sql)]

    return Landing(
        wms_events=rows(
            "select ingest_seq, event_id, event_type, sku_id, location_id, qty_delta, unit_cost,"
            " uom, uom_factor, event_ts, reference_id from raw.wms_events order by ingest_seq"
        ),
        mes_events=rows(
            "select ingest_seq, event_id, order_id, sku_id, work_center_id, event_type, qty,"
            " scrap_qty, bom_level, event_ts from raw.mes_events order by ingest_seq"
        ),
        order_lines=rows(
            "select ingest_seq, order_id, line_id, sku_id, location_id, quantity, status,"
            " order_ts, updated_at, received_at from raw.order_lines order by ingest_seq"
        ),
        purchase_orders=rows(
            "select ingest_seq, po_id, line_id, supplier_id, sku_id, location_id, ordered_qty,"
            " ordered_at, promised_at, status, updated_at from raw.purchase_orders"
            " order by ingest_seq"
        ),
        skus=rows("select sku_id, description, base_uom, abc_class from raw.skus"),
        sku_params=rows(
            "select sku_id, location_id, lead_time_days, lead_time_std_days, service_level,"
            " reorder_point, safety_stock, order_qty, order_multiple, min_order_qty,"
            " review_period_days, max_days_of_cover from raw.sku_params"
        ),
    )


def to_utc_row(row: Row) -> Row:
    # psycopg returns timestamptz in the session time zone.
    return {k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in row.items()}


# ---- helpers ---------------------------------------------------------------------------------


def group_by(rows: Iterable[Row], key: Callable[[Row], tuple]) -> dict[tuple, list[Row]]:
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return dict(sorted(groups.items()))


def total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


def base_qty(event: Row) -> Decimal:
    return event["qty_delta"] * event["uom_factor"]


def in_last_days(ts: datetime, as_of: datetime, days: int) -> bool:
    """The half-open window (as_of - days, as_of]."""
    return as_of - days * DAY < ts <= as_of


def utc_date(ts: datetime) -> date:
    return ts.astimezone(UTC).date()


def hour_start(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def population_std(values: list[Decimal]) -> Decimal:
    mean = total(values) / len(values)
    return (total((v - mean) ** 2 for v in values) / len(values)).sqrt()


# ---- inventory_position ----------------------------------------------------------------------


def inventory_position(
    wms_events: list[Row], on_order: Mapping[tuple, Decimal] | None = None
) -> list[Row]:
    """`on_order`: on_order_by_pair(); a pair without purchase orders has 0 on order."""
    on_order = on_order or {}
    rows = []
    pairs = group_by(wms_events, lambda e: (e["sku_id"], e["location_id"]))
    for (sku_id, location_id), events in pairs.items():
        on_hand = bucket_qty(events, ON_HAND_TYPES)
        held = bucket_qty(events, HELD_TYPES)
        reserved = bucket_qty(events, RESERVED_TYPES)
        cost = avg_unit_cost([e for e in events if e["event_type"] == "receipt"])
        rows.append(
            {
                "sku_id": sku_id,
                "location_id": location_id,
                "on_hand_qty": on_hand,
                "held_qty": held,
                "reserved_qty": reserved,
                "available_qty": on_hand - held - reserved,
                "on_order_qty": on_order.get((sku_id, location_id), ZERO),
                "projected_qty": on_hand
                - held
                - reserved
                + on_order.get((sku_id, location_id), ZERO),
                "avg_unit_cost": cost,
                "on_hand_value": None if cost is None else on_hand * cost,
                "receipt_count": count_type(events, "receipt"),
                "issue_count": count_type(events, "issue"),
                "hold_count": count_type(events, "hold"),
                "last_movement_ts": max(e["event_ts"] for e in events),
            }
        )
    return rows


def bucket_qty(events: list[Row], types: frozenset[str]) -> Decimal:
    return total(base_qty(e) for e in events if e["event_type"] in types)


def count_type(events: list[Row], event_type: str) -> Decimal:
    return Decimal(sum(1 for e in events if e["event_type"] == event_type))


def avg_unit_cost(receipts: list[Row]) -> Decimal | None:
    """Per base unit: unit_cost is per unit of the event's uom, so cost = unit_cost * qty_delta."""
    if not receipts:
        return None
    cost = total(e["unit_cost"] * e["qty_delta"] for e in receipts)
    return cost / total(base_qty(e) for e in receipts)


# ---- purchase orders and on order -------------------------------------------------------------


def current_purchase_order_lines(purchase_orders: list[Row]) -> list[Row]:
    """A later version replaces the earlier one, as for order lines."""
    lines = group_by(purchase_orders, lambda v: (v["po_id"], v["line_id"]))
    return [max(versions, key=version_rank) for versions in lines.values()]


def on_order_by_pair(po_lines: list[Row]) -> dict[tuple, Decimal]:
    """Per pair: the sum over open lines of max(ordered - received, 0); `po_lines` as
    po_lines_received gives them."""
    on_order: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for line in po_lines:
        if line["status"] == "open":
            pending = line["ordered_qty"] - line["received_qty"]
            on_order[(line["sku_id"], line["location_id"])] += max(pending, ZERO)
    return dict(on_order)


# ---- wip_position ----------------------------------------------------------------------------


def wip_position(mes_events: list[Row]) -> list[Row]:
    rows = []
    pairs = group_by(mes_events, lambda e: (e["work_center_id"], e["sku_id"]))
    for (work_center_id, sku_id), events in pairs.items():
        started = total(e["qty"] for e in events if e["event_type"] == "start")
        completed = total(e["qty"] for e in events if e["event_type"] == "complete")
        scrap = total(e["scrap_qty"] for e in events)
        rows.append(
            {
                "work_center_id": work_center_id,
                "sku_id": sku_id,
                "units_started": started,
                "units_completed": completed,
                "total_scrap": scrap,
                "wip_qty": started - completed - scrap,
                "last_event_ts": max(e["event_ts"] for e in events),
            }
        )
    return rows


# ---- demand_velocity_7d ----------------------------------------------------------------------


def version_rank(version: Row) -> tuple:
    """Versions without updated_at were received at load time, after every explicit one."""
    updated_at = version["updated_at"]
    return (updated_at is None, updated_at or EARLIEST, version["ingest_seq"])


def current_order_lines(order_lines: list[Row]) -> list[Row]:
    lines = group_by(order_lines, lambda v: (v["order_id"], v["line_id"]))
    return [max(versions, key=version_rank) for versions in lines.values()]


def planning_figure(value: Decimal) -> Decimal:
    """A planning figure as shown: 4 decimals, half away from zero (ROUND_HALF_UP in decimal)."""
    return value.quantize(PLANNING_UNIT, rounding=ROUND_HALF_UP)


def demand_velocity_7d(velocity: list[Row]) -> list[Row]:
    """The mart: `demand_velocity` rows with their rates and std shown to 4 decimals."""
    shown = ("units_per_day_7d", "units_per_day_28d", "demand_std_28d")
    return [
        {k: planning_figure(v) if k in shown else v for k, v in row.items()} for row in velocity
    ]


def demand_velocity(order_lines: list[Row], as_of: datetime) -> list[Row]:
    """Demand per pair with exact rates, the input of health and of the order size."""
    demand = [
        line
        for line in current_order_lines(order_lines)
        if line["status"] == "completed" and in_last_days(line["order_ts"], as_of, 28)
    ]
    rows = []
    for (sku_id, location_id), lines in group_by(
        demand, lambda v: (v["sku_id"], v["location_id"])
    ).items():
        last_7d = [line for line in lines if in_last_days(line["order_ts"], as_of, 7)]
        slices = [daily_total(lines, as_of - k * DAY) for k in range(28)]
        units_7d = total(line["quantity"] for line in last_7d)
        rows.append(
            {
                "sku_id": sku_id,
                "location_id": location_id,
                "units_sold_7d": units_7d,
                "units_per_day_7d": units_7d / 7,
                "orders_7d": Decimal(len({line["order_id"] for line in last_7d})),
                "units_per_day_28d": total(slices) / 28,
                "demand_std_28d": population_std(slices),
                "as_of": as_of,
            }
        )
    return rows


def daily_total(lines: list[Row], slice_end: datetime) -> Decimal:
    return total(line["quantity"] for line in lines if in_last_days(line["order_ts"], slice_end, 1))


# ---- inventory_health ------------------------------------------------------------------------


def params_index(sku_params: list[Row]) -> dict[tuple, Row]:
    return {(p["sku_id"], p["location_id"]): p for p in sku_params}


def resolve_params(index: dict[tuple, Row], sku_id: str, location_id: str) -> dict:
    """The location row, else the all-locations row, wins whole; its empty cells take defaults."""
    chosen = index.get((sku_id, location_id)) or index.get((sku_id, None)) or {}
    return {
        name: default if chosen.get(name) is None else chosen[name]
        for name, default in DEFAULT_PARAMS.items()
    }


def safety_stock(
    service_level: Decimal, lead_time: Decimal, lead_time_std: Decimal, d: Decimal, sd: Decimal
) -> Decimal:
    z = Decimal(NormalDist().inv_cdf(float(service_level)))
    return z * (lead_time * sd**2 + d**2 * lead_time_std**2).sqrt()


def inventory_status(
    available: Decimal,
    safety: Decimal,
    reorder: Decimal,
    days_of_cover: Decimal | None,
    max_days_of_cover: Decimal,
) -> str:
    if available <= 0:
        return "stockout"
    if available <= safety:
        return "below_safety_stock"
    if available <= reorder:
        return "reorder_now"
    if days_of_cover is not None and days_of_cover > max_days_of_cover:
        return "overstock"
    return "healthy"


def demand_rates(velocity: list[Row]) -> dict[tuple, tuple[Decimal, Decimal]]:
    """(d, sd) per pair, exact, from `demand_velocity` rows."""
    return {
        (v["sku_id"], v["location_id"]): (v["units_per_day_7d"], v["demand_std_28d"])
        for v in velocity
    }


def inventory_health(
    position: list[Row],
    velocity: list[Row],
    params: dict[tuple, Row],
    as_of: datetime,
    measured: Mapping[tuple, tuple[Decimal, Decimal]] | None = None,
) -> list[Row]:
    """`velocity`: rows of `demand_velocity` (exact rates); `measured`: measured_lead_times()."""
    demand = demand_rates(velocity)
    rows = []
    for pos in position:
        key = (pos["sku_id"], pos["location_id"])
        p = resolve_params(params, *key)
        d, sd = demand.get(key, (ZERO, ZERO))
        lead_time, lead_time_std, lead_time_source = lead_time_of(params, key, measured or {})
        safety = p["safety_stock"]
        if safety is None:
            safety = planning_figure(
                safety_stock(p["service_level"], lead_time, lead_time_std, d, sd)
            )
        reorder = p["reorder_point"]
        if reorder is None:
            reorder = planning_figure(d * lead_time + safety)
        available = pos["available_qty"]
        cover = None if d == 0 else planning_figure(available / d)
        rows.append(
            {
                "sku_id": pos["sku_id"],
                "location_id": pos["location_id"],
                "on_hand_qty": pos["on_hand_qty"],
                "available_qty": available,
                "demand_rate_per_day": planning_figure(d),
                "demand_std_per_day": planning_figure(sd),
                "lead_time_days": lead_time,
                "lead_time_std_days": lead_time_std,
                "lead_time_source": lead_time_source,
                "service_level": p["service_level"],
                "safety_stock": safety,
                "reorder_point": reorder,
                "days_of_cover": cover,
                "max_days_of_cover": p["max_days_of_cover"],
                "inventory_status": inventory_status(
                    available, safety, reorder, cover, p["max_days_of_cover"]
                ),
                "as_of": as_of,
            }
        )
    return rows


# ---- reorder_alerts --------------------------------------------------------------------------


def suggested_order_qty(
    available: Decimal, reorder: Decimal, d: Decimal, params: Mapping[str, Decimal | None]
) -> Decimal:
    target = reorder + d * params["review_period_days"]
    raw = max(params["order_qty"] or ZERO, target - available)
    multiple = params["order_multiple"]
    rounded_up = (raw / multiple).to_integral_value(rounding=ROUND_CEILING) * multiple
    return max(rounded_up, params["min_order_qty"])


def reorder_alerts(
    health: list[Row],
    velocity: list[Row],
    params: dict[tuple, Row],
    as_of: datetime,
    on_order: Mapping[tuple, Decimal] | None = None,
) -> list[Row]:
    """`velocity`: rows of `demand_velocity`; the order size uses the exact rate. Judged and
    sized on projected_qty = available + on order (`on_order`: on_order_by_pair())."""
    demand = demand_rates(velocity)
    on_order = on_order or {}
    rows = []
    for h in health:
        available, reorder = h["available_qty"], h["reorder_point"]
        ordered = on_order.get((h["sku_id"], h["location_id"]), ZERO)
        projected = available + ordered
        if not projected < reorder:
            continue
        p = resolve_params(params, h["sku_id"], h["location_id"])
        rows.append(
            {
                "sku_id": h["sku_id"],
                "location_id": h["location_id"],
                "available_qty": available,
                "on_order_qty": ordered,
                "projected_qty": projected,
                "reorder_point": reorder,
                "safety_stock": h["safety_stock"],
                "demand_rate_per_day": h["demand_rate_per_day"],
                "qty_below_rop": projected - reorder,
                "suggested_order_qty": suggested_order_qty(
                    projected, reorder, demand.get((h["sku_id"], h["location_id"]), (ZERO,))[0], p
                ),
                "inventory_status": h["inventory_status"],
                "as_of": as_of,
            }
        )
    return rows


# ---- inventory_turns_30d ---------------------------------------------------------------------


def end_of_day_on_hand(events: list[Row], day: date, as_of: datetime) -> Decimal:
    """On hand at the end of a UTC date; the as_of date ends at as_of itself (inclusive)."""
    if day == utc_date(as_of):
        return total(base_qty(e) for e in events if e["event_ts"] <= as_of)
    next_midnight = datetime.combine(day + DAY, time.min, tzinfo=UTC)
    return total(base_qty(e) for e in events if e["event_ts"] < next_midnight)


def inventory_turns_30d(wms_events: list[Row], position: list[Row], as_of: datetime) -> list[Row]:
    on_hand_events = [e for e in wms_events if e["event_type"] in ON_HAND_TYPES]
    days = [utc_date(as_of) - k * DAY for k in range(30)]
    rows = []
    for sku_id in sorted({p["sku_id"] for p in position}):
        events = [e for e in on_hand_events if e["sku_id"] == sku_id]
        issues = -total(
            base_qty(e)
            for e in events
            if e["event_type"] == "issue" and in_last_days(e["event_ts"], as_of, 30)
        )
        avg_on_hand = total(end_of_day_on_hand(events, day, as_of) for day in days) / 30
        turns = issues / avg_on_hand if avg_on_hand > 0 else None
        rows.append(
            {
                "sku_id": sku_id,
                "issues_30d": issues,
                "avg_on_hand_30d": avg_on_hand,
                "turns_30d": turns,
                "annualized_turns": None if turns is None else turns * 365 / 30,
                "as_of": as_of,
            }
        )
    return rows


# ---- scrap_rate_alerts -----------------------------------------------------------------------


def round_half_away_from_zero(value: Fraction, places: int) -> Decimal:
    magnitude = math.floor(abs(value) * 10**places + Fraction(1, 2))
    rounded = Decimal(magnitude).scaleb(-places)
    return rounded if value >= 0 else -rounded


def scrap_window_key(event: Row) -> tuple:
    return (event["work_center_id"], event["sku_id"], hour_start(event["event_ts"]))


def scrap_rate_alerts(mes_events: list[Row], as_of: datetime, cfg: Config) -> list[Row]:
    # hour_start(ts) <= ts <= as_of, so every window here also starts at or before as_of.
    seen = [e for e in mes_events if e["event_ts"] <= as_of]
    windows = group_by(seen, scrap_window_key)
    rows = []
    for (work_center_id, sku_id, window_start), events in windows.items():
        scrap = total(e["scrap_qty"] for e in events)
        started = total(e["qty"] for e in events if e["event_type"] == "start")
        threshold = cfg.scrap_thresholds.get(work_center_id, cfg.scrap_threshold_pct)
        if started <= 0:
            continue
        rate = 100 * Fraction(scrap) / Fraction(started)
        if not rate > Fraction(threshold):
            continue
        rows.append(
            {
                "work_center_id": work_center_id,
                "sku_id": sku_id,
                "window_start": window_start,
                "window_end": window_start + HOUR,
                "scrap_qty_1h": scrap,
                "started_qty_1h": started,
                "scrap_rate_pct": round_half_away_from_zero(rate, 2),
                "threshold_pct": threshold,
                "as_of": as_of,
            }
        )
    return rows


# ---- movement_anomalies ----------------------------------------------------------------------


def movement_anomalies(wms_events: list[Row], as_of: datetime, cfg: Config) -> list[Row]:
    recent = [
        e
        for e in wms_events
        if e["event_type"] in ON_HAND_TYPES and in_last_days(e["event_ts"], as_of, 28)
    ]
    rows = []
    for (_sku_id,), events in group_by(recent, lambda e: (e["sku_id"],)).items():
        if len(events) < cfg.spike_min_events:
            continue
        median = statistics.median(abs(base_qty(e)) for e in events)
        threshold = max(cfg.spike_factor * median, cfg.spike_min_qty)
        rows.extend(
            {
                "event_id": e["event_id"],
                "sku_id": e["sku_id"],
                "location_id": e["location_id"],
                "event_type": e["event_type"],
                "event_ts": e["event_ts"],
                "abs_qty": abs(base_qty(e)),
                "median_abs_qty_28d": median,
                "threshold_qty": threshold,
                "as_of": as_of,
            }
            for e in events
            if abs(base_qty(e)) > threshold
        )
    return sorted(rows, key=lambda r: r["event_id"])


# ---- stockout_episodes -----------------------------------------------------------------------


def available_change(event: Row) -> Decimal:
    """What an event does to available = on hand - held - reserved."""
    qty = base_qty(event)
    return qty if event["event_type"] in ON_HAND_TYPES else -qty


def seconds(span: timedelta) -> Fraction:
    return Fraction(span // timedelta(microseconds=1), 10**6)


def hours_shown(span_seconds: Fraction) -> Decimal:
    """Hours to 4 decimals, half away from zero."""
    return round_half_away_from_zero(span_seconds / 3600, 4)


def stockout_episode(sku_id: str, location_id: str, started: datetime, ended: datetime | None):
    return {
        "sku_id": sku_id,
        "location_id": location_id,
        "started_at": started,
        "ended_at": ended,
        "duration_hours": None if ended is None else hours_shown(seconds(ended - started)),
    }


def stockout_episodes(wms_events: list[Row], as_of: datetime) -> list[Row]:
    """Replay each pair's available stock from 0 over its events up to as_of, one instant at a
    time (all its events together): out when it goes from > 0 to <= 0, back when > 0 again."""
    seen = [e for e in wms_events if e["event_ts"] <= as_of]
    rows = []
    for (sku_id, location_id), events in group_by(
        seen, lambda e: (e["sku_id"], e["location_id"])
    ).items():
        available, out_since = ZERO, None
        for (instant,), at_once in group_by(events, lambda e: (e["event_ts"],)).items():
            before = available
            available += total(available_change(e) for e in at_once)
            if before > 0 and available <= 0:
                out_since = instant
            elif out_since is not None and available > 0:
                rows.append(stockout_episode(sku_id, location_id, out_since, instant))
                out_since = None
        if out_since is not None:
            rows.append(stockout_episode(sku_id, location_id, out_since, None))
    return rows


# ---- stockout_frequency_30d ------------------------------------------------------------------


def stockout_frequency_30d(episodes: list[Row], position: list[Row], as_of: datetime) -> list[Row]:
    """`episodes`: rows of `stockout_episodes` as of the same instant (an open one has no end)."""
    window_start = as_of - 30 * DAY
    by_pair = group_by(episodes, lambda e: (e["sku_id"], e["location_id"]))
    rows = []
    for pos in position:
        mine = by_pair.get((pos["sku_id"], pos["location_id"]), [])
        # each episode's overlap with the window; an open one runs to as_of
        overlaps = (
            seconds((e["ended_at"] or as_of) - max(e["started_at"], window_start)) for e in mine
        )
        out = sum((max(Fraction(0), o) for o in overlaps), Fraction(0))
        rows.append(
            {
                "sku_id": pos["sku_id"],
                "location_id": pos["location_id"],
                "stockouts_30d": Decimal(
                    sum(1 for e in mine if in_last_days(e["started_at"], as_of, 30))
                ),
                "hours_out_30d": hours_shown(out),
                "in_stock_pct_30d": round_half_away_from_zero(100 * (1 - out / 3600 / 720), 2),
            }
        )
    return rows


# ---- lead_times, supplier_performance, measured lead times ------------------------------------
# `po_lines`: the current purchase order lines with the receipts matched to them
# (po_lines_received).


def po_lines_received(purchase_orders: list[Row], wms_events: list[Row]) -> list[Row]:
    """Every current line with received_qty, first_received_at (the first receipt that put
    quantity on it) and received_in_full_at (the receipt that took it to ordered_qty). Receipts
    are poured per (PO, SKU, location), in (event_ts, ingest_seq) order, into the receiving
    lines oldest (ordered_at, line_id) first, the newest taking any surplus; cancelled lines
    take nothing (the choices of int_purchase_order_lines' docs)."""
    lines = [
        dict(line, received_qty=ZERO, first_received_at=None, received_in_full_at=None)
        for line in current_purchase_order_lines(purchase_orders)
    ]
    receiving = [line for line in lines if line["status"] != "cancelled"]
    for (po_id, sku_id, location_id), group in group_by(
        receiving, lambda line: (line["po_id"], line["sku_id"], line["location_id"])
    ).items():
        group.sort(key=lambda line: (line["ordered_at"], line["line_id"]))
        receipts = sorted(
            (
                e
                for e in wms_events
                if e["event_type"] == "receipt"
                and e["reference_id"] == po_id
                and (e["sku_id"], e["location_id"]) == (sku_id, location_id)
            ),
            key=lambda e: (e["event_ts"], e["ingest_seq"]),
        )
        for receipt in receipts:
            left = base_qty(receipt)
            for i, line in enumerate(group):
                room = max(line["ordered_qty"] - line["received_qty"], ZERO)
                take = left if i == len(group) - 1 else min(left, room)
                if take > 0:
                    line["received_qty"] += take
                    left -= take
                    if line["first_received_at"] is None:
                        line["first_received_at"] = receipt["event_ts"]
                    if (
                        line["received_in_full_at"] is None
                        and line["received_qty"] >= line["ordered_qty"]
                    ):
                        line["received_in_full_at"] = receipt["event_ts"]
                if left == 0:
                    break
    return lines


MEASURED_MIN_LINES = 5
MEASURED_MAX_LINES = 20


def received_by(po_lines: list[Row], as_of: datetime) -> list[Row]:
    """The lines first received at or before as_of: a receipt after as_of has not happened yet."""
    return [
        line
        for line in po_lines
        if line["first_received_at"] is not None and line["first_received_at"] <= as_of
    ]


def lead_time_days(line: Row) -> Decimal:
    """The first receipt's event_ts - ordered_at, in (fractional) days, exact."""
    elapsed = line["first_received_at"] - line["ordered_at"]
    seconds = Decimal(elapsed.days * 86400 + elapsed.seconds) + Decimal(elapsed.microseconds) / (
        10**6
    )
    return seconds / 86400


def is_on_time(line: Row, as_of: datetime) -> bool | None:
    """Received in full by promised_at; None while that cannot be told: no promise, or not in
    full yet with the promise still ahead of as_of (a promise passed without it is late)."""
    promised, in_full = line["promised_at"], line["received_in_full_at"]
    if promised is None:
        return None
    if in_full is not None:
        return in_full <= promised
    return False if promised <= as_of else None


def lead_times(po_lines: list[Row], as_of: datetime) -> list[Row]:
    rows = [
        {
            "po_id": line["po_id"],
            "line_id": line["line_id"],
            "supplier_id": line["supplier_id"],
            "sku_id": line["sku_id"],
            "location_id": line["location_id"],
            "ordered_qty": line["ordered_qty"],
            "received_qty": line["received_qty"],
            "ordered_at": line["ordered_at"],
            "promised_at": line["promised_at"],
            "first_received_at": line["first_received_at"],
            "received_in_full_at": line["received_in_full_at"],
            "lead_time_days": planning_figure(lead_time_days(line)),
            "on_time": is_on_time(line, as_of),
            "as_of": as_of,
        }
        for line in received_by(po_lines, as_of)
    ]
    return sorted(rows, key=lambda r: (r["po_id"], r["line_id"]))


def supplier_performance(po_lines: list[Row], as_of: datetime) -> list[Row]:
    recent = [
        line
        for line in received_by(po_lines, as_of)
        if in_last_days(line["first_received_at"], as_of, 90)
    ]
    rows = []
    for (supplier_id,), lines in group_by(recent, lambda line: (line["supplier_id"],)).items():
        judged = [t for t in (is_on_time(line, as_of) for line in lines) if t is not None]
        days = [lead_time_days(line) for line in lines]
        rows.append(
            {
                "supplier_id": supplier_id,
                "lines": Decimal(len(lines)),
                "lines_judged": Decimal(len(judged)),
                "lines_on_time": Decimal(sum(judged)),
                "on_time_pct": (
                    round_half_away_from_zero(Fraction(100 * sum(judged), len(judged)), 2)
                    if judged
                    else None
                ),
                "lead_time_mean_days": planning_figure(total(days) / len(days)),
                "lead_time_std_days": planning_figure(population_std(days)),
                "as_of": as_of,
            }
        )
    return rows


def lead_time_of(
    params: dict[tuple, Row], key: tuple, measured: Mapping[tuple, tuple[Decimal, Decimal]]
) -> tuple[Decimal, Decimal, str]:
    """(L, sL, lead_time_source): the chosen sku_params row's lead time when it gives one; else
    the pair's measured mean and std; else 7 days with the row's std (default 0)."""
    chosen = params.get(key) or params.get((key[0], None)) or {}
    std = chosen.get("lead_time_std_days")
    std = DEFAULT_PARAMS["lead_time_std_days"] if std is None else std
    if chosen.get("lead_time_days") is not None:
        return chosen["lead_time_days"], std, "param"
    if key in measured:
        return (*measured[key], "measured")
    return DEFAULT_PARAMS["lead_time_days"], std, "default"


def measured_lead_times(
    po_lines: list[Row], as_of: datetime
) -> dict[tuple, tuple[Decimal, Decimal]]:
    """(mean, population std) in days, shown to 4 decimals, of each pair's last 20 lines first
    received by as_of (by first_received_at, then po_id, line_id); pairs with 5 or more only."""
    measured = {}
    for pair, lines in group_by(
        received_by(po_lines, as_of), lambda line: (line["sku_id"], line["location_id"])
    ).items():
        last = sorted(
            lines, key=lambda line: (line["first_received_at"], line["po_id"], line["line_id"])
        )[-MEASURED_MAX_LINES:]
        if len(last) >= MEASURED_MIN_LINES:
            days = [lead_time_days(line) for line in last]
            measured[pair] = (
                planning_figure(total(days) / len(days)),
                planning_figure(population_std(days)),
            )
    return measured
