"""The reference marts on tiny cases computed by hand."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from tests.reference.domain import (
    DEFAULT_PARAMS,
    Config,
    Landing,
    compute_marts,
    inventory_status,
    planning_figure,
    round_half_away_from_zero,
    safety_stock,
    suggested_order_qty,
)

D = Decimal
AS_OF = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)
Z95 = 1.6448536269514722  # NormalDist().inv_cdf(0.95)
_seq = itertools.count(1)


def ago(days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
    return AS_OF - timedelta(days=days, hours=hours, seconds=seconds)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def wms(event_id, event_type, qty, ts=AS_OF, sku="S1", loc="L1", cost=None, uom=None, factor=1):
    return {
        "ingest_seq": next(_seq),
        "event_id": event_id,
        "event_type": event_type,
        "sku_id": sku,
        "location_id": loc,
        "qty_delta": D(qty),
        "unit_cost": None if cost is None else D(cost),
        "uom": uom,
        "uom_factor": D(factor),
        "event_ts": ts,
        "reference_id": None,
    }


def mes(event_type, qty, ts, scrap=0, wc="WC1", sku="S1"):
    seq = next(_seq)
    return {
        "ingest_seq": seq,
        "event_id": f"M{seq}",
        "order_id": "MO1",
        "sku_id": sku,
        "work_center_id": wc,
        "event_type": event_type,
        "qty": D(qty),
        "scrap_qty": D(scrap),
        "bom_level": None,
        "event_ts": ts,
    }


def line(order_id, qty, ts, status="completed", sku="S1", loc="L1", updated_at=None, seq=None):
    return {
        "ingest_seq": next(_seq) if seq is None else seq,
        "order_id": order_id,
        "line_id": "1",
        "sku_id": sku,
        "location_id": loc,
        "quantity": D(qty),
        "status": status,
        "order_ts": ts,
        "updated_at": updated_at,
        "received_at": AS_OF,
    }


def params(sku="S1", loc=None, **values):
    row = {"sku_id": sku, "location_id": loc} | {name: None for name in DEFAULT_PARAMS}
    return row | {name: D(str(v)) for name, v in values.items()}


def marts(cfg: Config = Config(), **landing) -> dict[str, list[dict]]:  # noqa: B008
    return compute_marts(Landing(**landing), AS_OF, cfg)


def one(rows: list[dict], **key) -> dict:
    found = [r for r in rows if all(r[k] == v for k, v in key.items())]
    assert len(found) == 1, (key, rows)
    return found[0]


def approx(expected: float) -> object:
    """A float computed in the test, to compare with a Decimal result."""
    return pytest.approx(D(expected), rel=D("1e-9"), abs=D("1e-12"))


# ---- inventory_position ----------------------------------------------------------------------


def test_buckets_available_and_counts():
    events = [
        wms("E1", "receipt", 10, ago(5), cost=2),
        wms("E2", "return", 1, ago(4)),
        wms("E3", "transfer_in", 5, ago(4)),
        wms("E4", "issue", -3, ago(3)),
        wms("E5", "transfer_out", -2, ago(3)),
        wms("E6", "adjust", -1, ago(2)),
        wms("E7", "hold", 2, ago(2)),
        wms("E8", "release", -1, ago(1)),
        wms("E9", "reserve", 4, ago(1)),
        wms("E10", "unreserve", -1, AS_OF + timedelta(hours=1)),  # after as_of: still counted
    ]
    row = one(marts(wms_events=events)["inventory_position"], sku_id="S1", location_id="L1")
    assert row["on_hand_qty"] == 10  # 10 + 1 + 5 - 3 - 2 - 1
    assert row["held_qty"] == 1  # 2 - 1
    assert row["reserved_qty"] == 3  # 4 - 1
    assert row["available_qty"] == 6  # 10 - 1 - 3
    assert row["avg_unit_cost"] == 2
    assert row["on_hand_value"] == 20  # 10 * 2
    assert (row["receipt_count"], row["issue_count"], row["hold_count"]) == (1, 1, 1)
    assert row["last_movement_ts"] == AS_OF + timedelta(hours=1)


def test_weighted_cost_per_base_unit_with_case_pack():
    events = [
        wms("E1", "receipt", 2, ago(3), cost=24, uom="CS", factor=12),  # 48 money, 24 EA
        wms("E2", "receipt", 6, ago(2), cost=3),  # 18 money, 6 EA
        wms("E3", "issue", -1, ago(1), uom="CS", factor=12),  # -12 EA
    ]
    row = marts(wms_events=events)["inventory_position"][0]
    assert row["on_hand_qty"] == 18  # 24 + 6 - 12
    assert row["avg_unit_cost"] == D("2.2")  # (48 + 18) / (24 + 6)
    assert row["on_hand_value"] == D("39.6")  # 18 * 2.2
    assert row["receipt_count"] == 2


def test_cost_is_null_without_receipt():
    row = marts(wms_events=[wms("E1", "adjust", 5, ago(1))])["inventory_position"][0]
    assert row["on_hand_qty"] == 5
    assert row["avg_unit_cost"] is None
    assert row["on_hand_value"] is None
    assert row["receipt_count"] == 0


def test_a_row_per_pair_sorted_by_key():
    events = [
        wms("E1", "hold", 1, sku="S2", loc="L1"),
        wms("E2", "adjust", 1, sku="S1", loc="L2"),
        wms("E3", "adjust", 1, sku="S1", loc="L1"),
    ]
    rows = marts(wms_events=events)["inventory_position"]
    assert [(r["sku_id"], r["location_id"]) for r in rows] == [
        ("S1", "L1"),
        ("S1", "L2"),
        ("S2", "L1"),
    ]


# ---- wip_position ----------------------------------------------------------------------------


def test_wip_position():
    events = [
        mes("start", 100, ago(3)),
        mes("complete", 60, ago(2), scrap=2),
        mes("scrap", 0, ago(1), scrap=5),
        mes("start", 20, AS_OF + timedelta(days=1)),  # after as_of: still counted
    ]
    row = one(marts(mes_events=events)["wip_position"], work_center_id="WC1", sku_id="S1")
    assert row["units_started"] == 120  # 100 + 20
    assert row["units_completed"] == 60
    assert row["total_scrap"] == 7  # 2 + 5, from every type
    assert row["wip_qty"] == 53  # 120 - 60 - 7
    assert row["last_event_ts"] == AS_OF + timedelta(days=1)


# ---- demand_velocity_7d ----------------------------------------------------------------------


def test_velocity_half_open_windows():
    lines = [
        line("A", 1, AS_OF),  # in 7d
        line("B", 2, ago(7)),  # out of 7d, in 28d (slice k=7)
        line("C", 4, ago(7) + timedelta(microseconds=1)),  # in 7d
        line("D", 8, ago(28)),  # out of 28d
        line("E", 16, AS_OF + timedelta(seconds=1)),  # after as_of
        line("F", 32, ago(28) + timedelta(microseconds=1)),  # in 28d (slice k=27)
    ]
    row = one(marts(order_lines=lines)["demand_velocity_7d"], sku_id="S1", location_id="L1")
    assert row["units_sold_7d"] == 5  # A + C = 1 + 4
    assert row["units_per_day_7d"] == D("0.7143")  # 5 / 7 = 0.714285..., shown to 4 decimals
    assert row["orders_7d"] == 2  # A, C
    assert row["units_per_day_28d"] == D("1.3929")  # (1 + 2 + 4 + 32) / 28 = 1.392857...
    assert row["as_of"] == AS_OF


def test_velocity_counts_distinct_orders():
    lines = [line("A", 1, ago(1)), line("B", 2, ago(2))]
    lines.append(line("A", 3, ago(3)) | {"line_id": "2"})
    row = marts(order_lines=lines)["demand_velocity_7d"][0]
    assert (row["units_sold_7d"], row["orders_7d"]) == (6, 2)  # 1 + 2 + 3; orders A, B


def test_velocity_std_counts_zero_demand_days():
    lines = [
        line("A", 28, ago(3), loc="L1"),  # one slice of 28, 27 slices of 0
        line("B", 14, ago(1), loc="L2"),  # two slices of 14, 26 slices of 0
        line("C", 14, ago(20), loc="L2"),
    ]
    rows = marts(order_lines=lines)["demand_velocity_7d"]
    l1 = one(rows, location_id="L1")
    # mean 28/28 = 1; variance (27^2 + 27 * 1^2) / 28 = 756 / 28 = 27
    assert l1["units_per_day_28d"] == 1
    assert l1["demand_std_28d"] == D("5.1962")  # sqrt(27) = 5.196152...
    assert l1["units_per_day_7d"] == 4  # 28 / 7
    l2 = one(rows, location_id="L2")
    # mean 1; variance (2 * 13^2 + 26 * 1^2) / 28 = 364 / 28 = 13
    assert l2["demand_std_28d"] == D("3.6056")  # sqrt(13) = 3.605551...
    assert l2["units_sold_7d"] == 14


def test_velocity_slices_are_half_open_days():
    # as_of - 1d closes slice k=1 = (as_of - 2d, as_of - 1d]; one second later is in slice k=0
    lines = [line("A", 14, ago(1)), line("B", 14, ago(1, seconds=-1))]
    row = marts(order_lines=lines)["demand_velocity_7d"][0]
    # slices k=0 (B, 14) and k=1 (A, 14): mean 1, variance 13 as above; one slice would give 27
    assert row["demand_std_28d"] == D("3.6056")


def test_velocity_only_completed_recent_demand_makes_rows():
    lines = [line("A", 5, ago(1), status="placed"), line("B", 5, ago(29))]
    assert marts(order_lines=lines)["demand_velocity_7d"] == []


def test_order_line_latest_updated_at_wins():
    t1, t2 = ago(2), ago(1)
    lines = [
        line("O1", 5, ago(3), updated_at=t1),
        line("O1", 5, ago(3), updated_at=t2, status="cancelled"),  # later: cancelled
        line("O2", 6, ago(3), updated_at=t2, status="placed", seq=100),
        line("O2", 6, ago(3), updated_at=t1, seq=101),  # arrived later but older updated_at
    ]
    assert marts(order_lines=lines)["demand_velocity_7d"] == []


def test_order_line_version_without_updated_at_wins_and_replaces_whole_line():
    lines = [
        line("O3", 5, ago(2), updated_at=utc(2030, 1, 1), status="cancelled", seq=10),
        line("O3", 3, ago(20), sku="S2", loc="L2", seq=9),  # no updated_at: beats 2030
        line("O4", 7, ago(1), seq=20),
        line("O4", 7, ago(1), status="cancelled", seq=21),  # both without: highest seq wins
    ]
    rows = marts(order_lines=lines)["demand_velocity_7d"]
    assert [(r["sku_id"], r["location_id"]) for r in rows] == [("S2", "L2")]
    assert rows[0]["units_sold_7d"] == 0  # dated ago(20) by the winning version
    assert rows[0]["units_per_day_28d"] == D("0.1071")  # 3 / 28 = 0.107142...


# ---- inventory_health and reorder_alerts -----------------------------------------------------


def test_safety_stock_uses_z_of_service_level():
    # 5 * z: sqrt(L * sd^2 + d^2 * sL^2) = sqrt(4 * 2^2 + 3^2 * 1^2) = sqrt(25) = 5
    ss = safety_stock(D("0.95"), lead_time=D(4), lead_time_std=D(1), d=D(3), sd=D(2))
    assert ss == approx(5 * Z95)  # 8.22426813475736
    # z(0.975) = 1.959963984540054
    assert safety_stock(D("0.975"), D(4), D(1), D(3), D(2)) == approx(5 * 1.959963984540054)
    assert safety_stock(D("0.5"), D(4), D(1), D(3), D(2)) == 0  # z = 0
    assert safety_stock(D("0.95"), D(7), D(0), D(0), D(0)) == 0


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (D("2.44444"), D("2.4444")),
        (D("0.00005"), D("0.0001")),  # half away from zero, as Postgres's round(numeric)
        (D("-0.00005"), D("-0.0001")),
        (D("-6.80365"), D("-6.8037")),
        (D(17), D("17.0000")),
    ],
)
def test_planning_figures_show_4_decimals_half_away_from_zero(value, shown):
    assert str(planning_figure(value)) == str(shown)


# demand 28 at one day within the last 7: d = 28 / 7 = 4, sd = sqrt(27) (see the std test)
def demand_4_per_day(loc="L1") -> list[dict]:
    return [line(f"O-{loc}", 28, ago(3), loc=loc)]


def test_health_reorder_point_and_alert():
    out = marts(
        wms_events=[wms("E1", "receipt", 20, ago(10), cost=1)],
        order_lines=demand_4_per_day(),
        sku_params=[params(lead_time_days=3)],
    )
    h = one(out["inventory_health"], sku_id="S1", location_id="L1")
    # z * sqrt(3 * 27 + 4^2 * 0^2) = 9z = 14.8036826..., shown (and judged) to 4 decimals
    ss = D("14.8037")
    rop = D("26.8037")  # d * L + ss = 12 + 14.8037
    assert abs(9 * Z95 - 14.8036826) < 1e-7
    assert h["demand_rate_per_day"] == 4
    assert h["demand_std_per_day"] == D("5.1962")
    assert (h["lead_time_days"], h["lead_time_std_days"], h["service_level"]) == (3, 0, D("0.95"))
    assert h["safety_stock"] == ss
    assert h["reorder_point"] == rop
    assert h["days_of_cover"] == 5  # 20 / 4
    assert h["max_days_of_cover"] == 90
    assert h["inventory_status"] == "reorder_now"  # 14.8 < 20 <= 26.8
    a = one(out["reorder_alerts"], sku_id="S1", location_id="L1")
    assert a["qty_below_rop"] == D("-6.8037")  # 20 - 26.8037
    # target = 26.8037 + 4 * 7 = 54.8037; raw = 54.8037 - 20 = 34.8037; ceil to multiple 1 -> 35
    assert a["suggested_order_qty"] == 35
    assert a["safety_stock"] == ss
    assert a["inventory_status"] == "reorder_now"
    assert a["as_of"] == AS_OF


def test_static_overrides():
    out = marts(
        wms_events=[wms(f"E{loc}", "receipt", 100, ago(10), loc=loc, cost=1) for loc in "123"],
        order_lines=demand_4_per_day("1") + demand_4_per_day("2") + demand_4_per_day("3"),
        sku_params=[
            params(loc="1", lead_time_days=3, safety_stock=5),
            params(loc="2", lead_time_days=3, reorder_point=30),
            params(loc="3", lead_time_days=3, safety_stock=2, reorder_point=10),
        ],
    )
    health = out["inventory_health"]
    only_ss = one(health, location_id="1")
    assert (only_ss["safety_stock"], only_ss["reorder_point"]) == (5, 17)  # rop = 4 * 3 + 5
    only_rop = one(health, location_id="2")
    assert only_rop["safety_stock"] == D("14.8037")  # computed as without overrides
    assert only_rop["reorder_point"] == 30
    both = one(health, location_id="3")
    assert (both["safety_stock"], both["reorder_point"]) == (2, 10)
    assert out["reorder_alerts"] == []  # available 100 is above every reorder point


def test_reorder_alert_needs_available_strictly_below_reorder_point():
    out = marts(
        wms_events=[wms("E1", "receipt", 20, ago(10), cost=1)],
        sku_params=[params(reorder_point=20)],
    )
    assert out["inventory_health"][0]["inventory_status"] == "reorder_now"  # 20 <= 20
    assert out["reorder_alerts"] == []  # 20 < 20 is false


@pytest.mark.parametrize(
    ("available", "ss", "rop", "cover", "expected"),
    [
        (0, 5, 10, None, "stockout"),
        (-3, -10, -10, None, "stockout"),  # stockout first even when below nothing else
        (5, 5, 10, None, "below_safety_stock"),  # <= is inclusive
        (3, 5, 2, None, "below_safety_stock"),  # safety stock checked before reorder point
        (10, 5, 10, D(1), "reorder_now"),
        (10, 5, 10, D(1000), "reorder_now"),  # reorder_now before overstock
        (11, 5, 10, D(91), "overstock"),
        (11, 5, 10, D(90), "healthy"),  # overstock is strict
        (11, 5, 10, None, "healthy"),
    ],
)
def test_status_precedence(available, ss, rop, cover, expected):
    assert inventory_status(D(available), D(ss), D(rop), cover, D(90)) == expected


def test_health_without_demand_and_overstock():
    out = marts(
        wms_events=[
            wms("E1", "receipt", 20, ago(10), loc="L1", cost=1),
            wms("E2", "receipt", 400, ago(10), loc="L2", cost=1),
        ],
        order_lines=demand_4_per_day("L2"),
    )
    quiet = one(out["inventory_health"], location_id="L1")
    # no velocity row: d = sd = 0, so ss = 0, rop = 0, cover null
    assert (quiet["demand_rate_per_day"], quiet["demand_std_per_day"]) == (0, 0)
    assert (quiet["safety_stock"], quiet["reorder_point"], quiet["days_of_cover"]) == (0, 0, None)
    assert quiet["inventory_status"] == "healthy"
    busy = one(out["inventory_health"], location_id="L2")
    # ss = z * sqrt(7 * 27) = 22.612998... -> 22.6130; rop = 28 + ss; cover 400 / 4 = 100 > 90
    assert busy["safety_stock"] == D("22.6130")
    assert busy["days_of_cover"] == 100
    assert busy["inventory_status"] == "overstock"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, D(35)),  # raw 34.8 -> 35
        ({"order_multiple": D(10)}, D(40)),  # ceil(3.48) * 10
        ({"order_multiple": D(10), "min_order_qty": D(50)}, D(50)),  # 40 -> at least 50
        ({"order_qty": D(60), "order_multiple": D(25)}, D(75)),  # max(60, 34.8) = 60 -> 3 * 25
        ({"order_multiple": D("0.5")}, D(35)),  # ceil(69.6) * 0.5 = 35
        ({"review_period_days": D(0)}, D(7)),  # target = rop = 26.8; raw = 6.8 -> 7
    ],
)
def test_suggested_order_rounding(overrides, expected):
    # available 20, rop 26.8, d 4: target = 26.8 + 4 * 7 = 54.8; raw = 54.8 - 20 = 34.8
    p = dict(DEFAULT_PARAMS) | overrides
    assert suggested_order_qty(D(20), D("26.8"), D(4), p) == expected


def test_suggested_order_exact_multiple_is_not_bumped():
    # target = 20 + 2 * 7 = 34; raw = 34 - 16 = 18 = 3 * 6
    p = dict(DEFAULT_PARAMS) | {"order_multiple": D(6)}
    assert suggested_order_qty(D(16), D(20), D(2), p) == 18


def test_location_specific_params_win_as_a_whole():
    out = marts(
        wms_events=[
            wms("E1", "issue", -5, ago(1), loc="L1"),
            wms("E2", "issue", -5, ago(1), loc="L2"),
            wms("E3", "adjust", 5, ago(1), sku="S9", loc="L1"),
        ],
        sku_params=[
            params(
                loc=None,
                lead_time_days=10,
                service_level="0.99",
                max_days_of_cover=30,
                order_multiple=100,
            ),
            params(loc="L1", lead_time_days=2),
        ],
    )
    health = out["inventory_health"]
    specific = one(health, sku_id="S1", location_id="L1")
    # the all-locations row's 0.99 / 30 do not leak into the empty cells
    assert (specific["lead_time_days"], specific["service_level"]) == (2, D("0.95"))
    assert specific["max_days_of_cover"] == 90
    general = one(health, sku_id="S1", location_id="L2")
    assert (general["lead_time_days"], general["service_level"]) == (10, D("0.99"))
    assert general["max_days_of_cover"] == 30
    unknown = one(health, sku_id="S9", location_id="L1")
    assert (unknown["lead_time_days"], unknown["service_level"]) == (7, D("0.95"))
    assert unknown["lead_time_std_days"] == 0
    # available -5 < rop 0 (no demand): target 0, raw 0 - (-5) = 5
    alerts = out["reorder_alerts"]
    assert one(alerts, location_id="L1")["suggested_order_qty"] == 5  # multiple 1 (default)
    assert one(alerts, location_id="L2")["suggested_order_qty"] == 100  # ceil(5/100) * 100
    assert one(alerts, location_id="L1")["inventory_status"] == "stockout"
    assert len(alerts) == 2


# ---- inventory_turns_30d ---------------------------------------------------------------------


def test_turns_end_of_day_totals():
    # as_of 2024-03-31 12:00, dates 03-02 .. 03-31
    events = [
        wms("E1", "receipt", 60, utc(2024, 2, 1), loc="L1", cost=1),
        wms("E2", "issue", -10, ago(30), loc="L2"),  # 03-01 12:00: not in issues, in every day
        wms("E3", "receipt", 30, utc(2024, 3, 31), loc="L2", cost=1),  # midnight: only 03-31
        wms("E4", "issue", -15, AS_OF, loc="L1"),  # as_of inclusive
        wms("E5", "hold", 5, utc(2024, 3, 10), loc="L1"),  # not on hand
        wms("E6", "receipt", 1000, AS_OF + timedelta(seconds=1), loc="L1", cost=1),  # future
    ]
    row = one(marts(wms_events=events)["inventory_turns_30d"], sku_id="S1")
    assert row["issues_30d"] == 15
    # 03-02 .. 03-30: 60 - 10 = 50 (29 days); 03-31: 50 + 30 - 15 = 65; (1450 + 65) / 30
    assert row["avg_on_hand_30d"] == D("50.5")
    assert row["turns_30d"] == approx(15 / 50.5)
    assert row["annualized_turns"] == approx(15 / 50.5 * 365 / 30)
    assert row["as_of"] == AS_OF


def test_turns_null_when_average_not_positive():
    events = [
        wms("E1", "hold", 5, ago(1), sku="S2"),  # no on-hand movement: average 0
        wms("E2", "issue", -6, ago(1), sku="S3"),  # 03-30 12:00: -6 on 03-30 and 03-31
        wms("E3", "receipt", 10, utc(2024, 1, 1), sku="S4", cost=1),  # idle stock
    ]
    rows = marts(wms_events=events)["inventory_turns_30d"]
    assert [r["sku_id"] for r in rows] == ["S2", "S3", "S4"]
    s2 = one(rows, sku_id="S2")
    assert (s2["avg_on_hand_30d"], s2["turns_30d"], s2["annualized_turns"]) == (0, None, None)
    s3 = one(rows, sku_id="S3")
    assert s3["issues_30d"] == 6
    assert s3["avg_on_hand_30d"] == D("-0.4")  # 2 * -6 / 30
    assert (s3["turns_30d"], s3["annualized_turns"]) == (None, None)
    s4 = one(rows, sku_id="S4")
    assert (s4["avg_on_hand_30d"], s4["turns_30d"], s4["annualized_turns"]) == (10, 0, 0)


# ---- scrap_rate_alerts -----------------------------------------------------------------------


def test_scrap_rate_windows_rounding_and_thresholds():
    ten = utc(2024, 3, 31, 10)
    eleven = utc(2024, 3, 31, 11)
    events = [
        # WC1/S1 10:00: 100 * 25 / 800 = 3.125 -> 3.13 (half away from zero, not to even)
        mes("start", 800, ten + timedelta(minutes=5)),
        mes("complete", 700, eleven - timedelta(microseconds=1), scrap=25),
        # WC1/S1 11:00: 100 * 3 / 100 = 3.0, not above 3.0
        mes("start", 100, eleven),
        mes("scrap", 0, eleven + timedelta(minutes=30), scrap=3),
        # WC1/S2 10:00: 100 * 30.04 / 1000 = 3.004 > 3.0 although it rounds to 3.00
        mes("start", 1000, ten, sku="S2"),
        mes("scrap", 0, ten, scrap="30.04", sku="S2"),
        # WC1/S3 10:00: scrap without starts
        mes("scrap", 0, ten, scrap=5, sku="S3"),
        # WC2 threshold 10: S1 9% no, S4 11% yes
        mes("start", 100, ten, scrap=9, wc="WC2"),
        mes("start", 100, ten, scrap=11, wc="WC2", sku="S4"),
        # WC1/S5 12:00 = as_of: 100 * 1 / 10 = 10%; the later scrap is after as_of
        mes("start", 10, AS_OF, scrap=1, sku="S5"),
        mes("scrap", 0, AS_OF + timedelta(minutes=30), scrap=100, sku="S5"),
    ]
    cfg = Config(scrap_thresholds={"WC2": D(10)})
    rows = marts(cfg, mes_events=events)["scrap_rate_alerts"]
    keys = [(r["work_center_id"], r["sku_id"], r["window_start"]) for r in rows]
    assert keys == [
        ("WC1", "S1", ten),
        ("WC1", "S2", ten),
        ("WC1", "S5", AS_OF),
        ("WC2", "S4", ten),
    ]
    s1 = rows[0]
    assert (s1["window_end"], s1["scrap_qty_1h"], s1["started_qty_1h"]) == (eleven, 25, 800)
    assert (s1["scrap_rate_pct"], s1["threshold_pct"]) == (D("3.13"), D("3.0"))
    assert rows[1]["scrap_rate_pct"] == D("3.00")
    assert (rows[2]["scrap_qty_1h"], rows[2]["scrap_rate_pct"]) == (1, D("10.00"))
    assert (rows[3]["scrap_rate_pct"], rows[3]["threshold_pct"]) == (D("11.00"), D(10))
    assert s1["as_of"] == AS_OF


def test_round_half_away_from_zero():
    assert round_half_away_from_zero(Fraction(3125, 1000), 2) == D("3.13")
    assert round_half_away_from_zero(Fraction(-3125, 1000), 2) == D("-3.13")
    assert round_half_away_from_zero(Fraction(2675, 1000), 2) == D("2.68")
    assert round_half_away_from_zero(Fraction(1, 3) * 100, 2) == D("33.33")


# ---- movement_anomalies ----------------------------------------------------------------------


def test_movement_spikes():
    events = [
        # S1: |qty| 10, 10, 20, 30, 2000 -> median 20, threshold max(10 * 20, 100) = 200
        wms("A1", "receipt", 10, ago(1), cost=1),
        wms("A2", "issue", -10, ago(2)),
        wms("A3", "adjust", 20, ago(3)),
        wms("A4", "transfer_in", 30, ago(4), loc="L2"),
        wms("A5", "receipt", 2000, ago(5), cost=1),
        wms("A6", "hold", 5000, ago(1)),  # not an on-hand movement
        wms("A7", "receipt", 9000, ago(28), cost=1),  # window start is excluded
        wms("A8", "receipt", 9000, AS_OF + timedelta(seconds=1), cost=1),  # after as_of
        # S2: 10, 10, 20, 30, 40, 5000 (50 cases of 100) -> median (20 + 30) / 2 = 25 -> 250
        *[wms(f"B{q}", "adjust", q, ago(1), sku="S2") for q in (10, 20, 30, 40)],
        wms("B11", "receipt", 10, ago(1), sku="S2", cost=1),
        wms("B5000", "issue", -50, ago(1), sku="S2", uom="CS", factor=100),
        # S3: only 4 events
        *[wms(f"C{i}", "adjust", q, ago(1), sku="S3") for i, q in enumerate((1, 1, 1, 1000))],
        # S4: 5, 5, 5, 100, 101 -> median 5, 10 * 5 = 50 below the floor -> threshold 100
        *[wms(f"D{i}", "adjust", q, ago(1), sku="S4") for i, q in enumerate((5, 5, 5, 100))],
        wms("D9", "adjust", 101, AS_OF, sku="S4"),
    ]
    rows = marts(wms_events=events)["movement_anomalies"]
    assert [r["event_id"] for r in rows] == ["A5", "B5000", "D9"]
    a5, b, d9 = rows
    assert (a5["abs_qty"], a5["median_abs_qty_28d"], a5["threshold_qty"]) == (2000, 20, 200)
    assert (a5["sku_id"], a5["event_type"], a5["event_ts"]) == ("S1", "receipt", ago(5))
    assert (b["abs_qty"], b["median_abs_qty_28d"], b["threshold_qty"]) == (5000, 25, 250)
    assert (b["location_id"], b["as_of"]) == ("L1", AS_OF)
    assert (d9["abs_qty"], d9["median_abs_qty_28d"], d9["threshold_qty"]) == (101, 5, 100)
    # with 4 events enough, S3's 1000 is above max(10 * 1, 100)
    fewer = marts(Config(spike_min_events=4), wms_events=events)["movement_anomalies"]
    assert [r["event_id"] for r in fewer] == ["A5", "B5000", "C3", "D9"]


# ---- the shape of the output -----------------------------------------------------------------

COLUMNS = {
    "inventory_position": "sku_id location_id on_hand_qty held_qty reserved_qty available_qty"
    " on_order_qty projected_qty avg_unit_cost on_hand_value receipt_count issue_count hold_count"
    " last_movement_ts",
    "wip_position": "work_center_id sku_id units_started units_completed total_scrap wip_qty"
    " last_event_ts",
    "demand_velocity_7d": "sku_id location_id units_sold_7d units_per_day_7d orders_7d"
    " units_per_day_28d demand_std_28d as_of",
    "inventory_health": "sku_id location_id on_hand_qty available_qty demand_rate_per_day"
    " demand_std_per_day lead_time_days lead_time_std_days lead_time_source service_level"
    " safety_stock reorder_point days_of_cover max_days_of_cover inventory_status as_of",
    "reorder_alerts": "sku_id location_id available_qty on_order_qty projected_qty reorder_point"
    " safety_stock demand_rate_per_day qty_below_rop suggested_order_qty inventory_status as_of",
    "inventory_turns_30d": "sku_id issues_30d avg_on_hand_30d turns_30d annualized_turns as_of",
    "scrap_rate_alerts": "work_center_id sku_id window_start window_end scrap_qty_1h"
    " started_qty_1h scrap_rate_pct threshold_pct as_of",
    "movement_anomalies": "event_id sku_id location_id event_type event_ts abs_qty"
    " median_abs_qty_28d threshold_qty as_of",
    "stockout_episodes": "sku_id location_id started_at ended_at duration_hours",
    "stockout_frequency_30d": "sku_id location_id stockouts_30d hours_out_30d in_stock_pct_30d",
    "lead_times": "po_id line_id supplier_id sku_id location_id ordered_qty received_qty"
    " ordered_at promised_at first_received_at received_in_full_at lead_time_days on_time as_of",
    "supplier_performance": "supplier_id lines lines_judged lines_on_time on_time_pct"
    " lead_time_mean_days lead_time_std_days as_of",
}


def test_every_mart_has_exactly_its_columns():
    # P1 is received against PO1 (a lead time, a supplier), then issued out (a stockout)
    receipt = wms("P1", "receipt", 5, ago(3), cost=1) | {"reference_id": "PO1"}
    out = marts(
        wms_events=[wms(f"E{i}", "issue", -1, ago(1)) for i in range(4)]
        + [wms("E9", "issue", -500, ago(1)), receipt, wms("P2", "issue", -5, ago(2))],
        mes_events=[mes("start", 10, ago(0, hours=1), scrap=1)],
        order_lines=[line("O1", 7, ago(1))],
        purchase_orders=[
            {
                "ingest_seq": next(_seq),
                "po_id": "PO1",
                "line_id": "1",
                "supplier_id": "SUP1",
                "sku_id": "S1",
                "location_id": "L1",
                "ordered_qty": D(5),
                "ordered_at": ago(10),
                "promised_at": ago(4),
                "status": "closed",
                "updated_at": None,
            }
        ],
    )
    assert set(out) == set(COLUMNS)
    for mart, columns in COLUMNS.items():
        assert out[mart], mart
        for row in out[mart]:
            assert list(row) == columns.split(), mart
