"""The simulator against an independent reading of DOMAIN.md's input rules (no database)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import islice, pairwise
from pathlib import Path

import orjson
import pytest

from dagster_project.core.simulate import SimConfig, generate, live_records, write_workload
from dagster_project.core.simulate.plant import build_plant

CFG = SimConfig(seed=7, n_skus=40, orders_per_day=300)
FILES = {
    "wms": "wms_events.jsonl",
    "mes": "mes_events.jsonl",
    "orders": "order_lines.jsonl",
    "po": "purchase_orders.jsonl",
}
WMS_TYPES = {
    "receipt": ("on_hand", 1),
    "return": ("on_hand", 1),
    "transfer_in": ("on_hand", 1),
    "issue": ("on_hand", -1),
    "transfer_out": ("on_hand", -1),
    "adjust": ("on_hand", 0),
    "hold": ("held", 1),
    "release": ("held", -1),
    "reserve": ("reserved", 1),
    "unreserve": ("reserved", -1),
}
MES_TYPES = {"start", "complete", "scrap"}
STATUSES = {"placed", "completed", "cancelled"}
PO_STATUSES = {"open", "cancelled", "closed"}


class Bad(Exception):
    pass


class Reference:
    def __init__(self, out: Path) -> None:
        self.base = {r["sku_id"]: r["base_uom"] for r in _csv(out / "skus.csv")}
        self.factor = {
            (r["sku_id"], r["uom"]): Decimal(r["factor_to_base"])
            for r in _csv(out / "uom_conversions.csv")
        }

    def to_base(self, sku: str, uom: str | None) -> Decimal:
        if uom is None or self.base.get(sku) == uom:
            return Decimal(1)
        if (sku, uom) not in self.factor:
            raise Bad("unknown unit")
        return self.factor[(sku, uom)]


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _reject(token: str) -> None:
    raise Bad(token)


def _text(obj: dict, field: str, required: bool = True) -> str | None:
    value = obj.get(field)
    if value is None or value == "":
        if required:
            raise Bad(f"missing {field}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Bad(f"mistyped {field}")
    return str(value)


def _number(obj: dict, field: str, required: bool = True) -> Decimal | None:
    value = obj.get(field)
    if value is None:
        if required:
            raise Bad(f"missing {field}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Bad(f"mistyped {field}")
    try:
        number = Decimal(value if isinstance(value, str) else repr(value))
    except InvalidOperation as exc:
        raise Bad(f"mistyped {field}") from exc
    if not number.is_finite():
        raise Bad(f"malformed {field}")
    return number


def _instant(obj: dict, field: str, required: bool = True) -> datetime | None:
    value = obj.get(field)
    if value is None or value == "":
        if required:
            raise Bad(f"missing {field}")
        return None
    if not isinstance(value, str):
        raise Bad(f"mistyped {field}")
    try:
        ts = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Bad(f"mistyped {field}") from exc
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _wms(obj: dict, ref: Reference) -> tuple[object, dict]:
    rec = {f: _text(obj, f) for f in ("event_id", "event_type", "sku_id", "location_id")}
    if rec["event_type"] not in WMS_TYPES:
        raise Bad("unknown type")
    qty = _number(obj, "qty_delta")
    sign = WMS_TYPES[rec["event_type"]][1]
    if qty == 0 or sign and (qty > 0) != (sign > 0):
        raise Bad("sign")
    cost = _number(obj, "unit_cost", required=rec["event_type"] == "receipt")
    if cost is not None and cost < 0:
        raise Bad("negative cost")
    uom = _text(obj, "uom", required=False)
    rec.update(
        qty_delta=qty,
        unit_cost=cost,
        uom=uom,
        event_ts=_instant(obj, "event_ts"),
        reference_id=_text(obj, "reference_id", required=False),
        base_qty=qty * ref.to_base(rec["sku_id"], uom),
    )
    return rec["event_id"], rec


def _mes(obj: dict, ref: Reference) -> tuple[object, dict]:
    rec = {
        f: _text(obj, f) for f in ("event_id", "order_id", "sku_id", "work_center_id", "event_type")
    }
    if rec["event_type"] not in MES_TYPES:
        raise Bad("unknown type")
    qty, scrap = _number(obj, "qty"), _number(obj, "scrap_qty", required=False) or Decimal(0)
    level = _number(obj, "bom_level", required=False)
    if qty < 0 or scrap < 0 or level is not None and level != level.to_integral_value():
        raise Bad("range")
    rec.update(qty=qty, scrap_qty=scrap, bom_level=level, event_ts=_instant(obj, "event_ts"))
    return rec["event_id"], rec


def _order(obj: dict, ref: Reference) -> tuple[object, dict]:
    rec = {f: _text(obj, f) for f in ("order_id", "line_id", "sku_id", "location_id", "status")}
    quantity = _number(obj, "quantity")
    if quantity <= 0 or rec["status"] not in STATUSES:
        raise Bad("range")
    rec.update(
        quantity=quantity,
        order_ts=_instant(obj, "order_ts"),
        updated_at=_instant(obj, "updated_at", required=False),
    )
    return (rec["order_id"], rec["line_id"], rec["updated_at"]), rec


def _po(obj: dict, ref: Reference) -> tuple[object, dict]:
    fields = ("po_id", "line_id", "supplier_id", "sku_id", "location_id", "status")
    rec = {f: _text(obj, f) for f in fields}
    qty = _number(obj, "ordered_qty")
    if qty <= 0 or rec["status"] not in PO_STATUSES:
        raise Bad("range")
    rec.update(
        ordered_qty=qty,
        ordered_at=_instant(obj, "ordered_at"),
        promised_at=_instant(obj, "promised_at", required=False),
        updated_at=_instant(obj, "updated_at", required=False),
    )
    return (rec["po_id"], rec["line_id"], rec["updated_at"]), rec


PARSERS = {"wms": _wms, "mes": _mes, "orders": _order, "po": _po}


def classify(path: Path, source: str, ref: Reference) -> dict:
    """Accepted records in file order, plus counts, judged on parsed values."""
    seen: dict[object, dict] = {}
    out = {"received": 0, "accepted": [], "duplicates": 0, "quarantined": 0}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        out["received"] += 1
        try:
            obj = json.loads(line, parse_constant=_reject)
            if not isinstance(obj, dict):
                raise Bad("not an object")
            key, rec = PARSERS[source](obj, ref)
        except (ValueError, Bad):
            out["quarantined"] += 1
            continue
        if key not in seen:
            seen[key] = rec
            out["accepted"].append(rec)
        elif seen[key] == rec:
            out["duplicates"] += 1
        else:
            out["quarantined"] += 1
    return out


@pytest.fixture(scope="module")
def workload():
    return generate(CFG)


@pytest.fixture(scope="module")
def written(workload, tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    manifest = write_workload(workload, out)
    ref = Reference(out)
    return out, manifest, {s: classify(out / f, s, ref) for s, f in FILES.items()}


def test_same_config_same_bytes(tmp_path):
    cfg = SimConfig(seed=3, n_skus=20, orders_per_day=120, days=3)
    for gzip in (False, True):
        a, b = tmp_path / f"a{gzip}", tmp_path / f"b{gzip}"
        write_workload(generate(cfg), a, gzip=gzip)
        write_workload(generate(cfg), b, gzip=gzip)
        names = sorted(p.name for p in a.iterdir())
        assert names == sorted(p.name for p in b.iterdir())
        for name in names:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    other = tmp_path / "other"
    write_workload(generate(SimConfig(seed=4, n_skus=20, orders_per_day=120, days=3)), other)
    assert (other / FILES["wms"]).read_bytes() != (tmp_path / "aFalse" / FILES["wms"]).read_bytes()


def test_manifest_adds_up_and_matches_the_files(written):
    out, manifest, _ = written
    assert manifest == orjson.loads((out / "manifest.json").read_bytes())
    for name, stats in manifest["files"].items():
        lines = [x for x in (out / name).read_text(encoding="utf-8").splitlines() if x.strip()]
        assert stats["received"] == len(lines)
        assert stats["received"] == stats["accepted"] + stats["duplicates"] + stats["quarantined"]
        assert stats["quarantined"] == sum(stats["quarantined_by_kind"].values())
    for name, n in manifest["reference"].items():
        assert len(_csv(out / f"{name}.csv")) == n


def test_manifest_agrees_with_the_domain_rules(written):
    _, manifest, judged = written
    for source, name in FILES.items():
        stats, mine = manifest["files"][name], judged[source]
        assert (len(mine["accepted"]), mine["duplicates"], mine["quarantined"]) == (
            stats["accepted"],
            stats["duplicates"],
            stats["quarantined"],
        ), source
        assert stats["duplicates"] > 0 and stats["quarantined"] > 0
    kinds = manifest["files"][FILES["wms"]]["quarantined_by_kind"]
    assert {"malformed", "conflict", "sign_mismatch", "unknown_uom", "bad_unit_cost"} <= set(kinds)


def test_clean_stock_never_goes_negative(written):
    _, _, judged = written
    events = sorted(judged["wms"]["accepted"], key=lambda r: r["event_ts"])
    buckets: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(
        lambda: {"on_hand": Decimal(0), "held": Decimal(0), "reserved": Decimal(0)}
    )
    for rec in events:
        b = buckets[(rec["sku_id"], rec["location_id"])]
        b[WMS_TYPES[rec["event_type"]][0]] += rec["base_qty"]
        assert min(b.values()) >= 0, rec
        assert b["held"] + b["reserved"] <= b["on_hand"], rec
    wip: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for rec in sorted(judged["mes"]["accepted"], key=lambda r: r["event_ts"]):
        key = (rec["work_center_id"], rec["sku_id"])
        wip[key] += rec["qty"] if rec["event_type"] == "start" else -rec["scrap_qty"]
        if rec["event_type"] == "complete":
            wip[key] -= rec["qty"]
        assert wip[key] >= 0, rec


def test_late_events_arrive_after_newer_ones(written):
    _, manifest, judged = written
    start = CFG.start
    for source in ("wms", "mes"):
        newest, late = None, 0
        for rec in judged[source]["accepted"]:
            ts = rec["event_ts"]
            assert start <= ts < start + timedelta(days=CFG.days)
            if newest is not None and ts < newest:
                late += 1
                assert newest - ts < timedelta(hours=8)
            newest = ts if newest is None else max(newest, ts)
        assert late == manifest["files"][FILES[source]]["late"] > 0, source


def test_weekend_demand_is_lower(written):
    _, _, judged = written
    per_day: dict[int, int] = defaultdict(int)
    for rec in judged["orders"]["accepted"]:
        if rec["status"] == "placed":
            per_day[rec["order_ts"].weekday()] += 1
    weekday = sum(per_day[d] for d in range(5)) / 5
    weekend = (per_day[5] + per_day[6]) / 2
    assert weekend < 0.6 * weekday


def test_clean_records_use_known_skus_and_units(workload, written):
    out = written[0]
    base = {r["sku_id"]: r["base_uom"] for r in _csv(out / "skus.csv")}
    packs = {(r["sku_id"], r["uom"]) for r in _csv(out / "uom_conversions.csv")}
    for stream in workload.streams.values():
        for rec, label in zip(stream.lines, stream.labels, strict=True):
            if label in ("ok", "late"):
                assert rec["sku_id"] in base
                uom = rec.get("uom")
                assert uom is None or uom == base[rec["sku_id"]] or (rec["sku_id"], uom) in packs


def test_resends_are_spelled_differently(workload):
    for stream in workload.streams.values():
        originals = {
            orjson.dumps(r)
            for r, lab in zip(stream.lines, stream.labels, strict=True)
            if lab in ("ok", "late")
        }
        resends = [
            x for x, lab in zip(stream.lines, stream.labels, strict=True) if lab == "duplicate"
        ]
        assert resends and all(isinstance(x, str) and x.encode() not in originals for x in resends)


def test_order_lines_move_forward(written):
    _, _, judged = written
    versions: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for rec in judged["orders"]["accepted"]:
        versions[(rec["order_id"], rec["line_id"])].append(rec)
    statuses = set()
    for lines in versions.values():
        assert lines[0]["status"] == "placed"
        assert len(lines) <= 2
        assert all(a["updated_at"] < b["updated_at"] for a, b in pairwise(lines))
        statuses.update(r["status"] for r in lines)
    assert statuses == STATUSES


def test_purchase_orders_are_received_against_their_id(written):
    """An open version when placed; then closed, with a receipt of exactly the ordered quantity
    referencing the PO, or cancelled without one; suppliers differ in how often they are late."""
    _, _, judged = written
    versions: dict[str, list[dict]] = defaultdict(list)
    for rec in judged["po"]["accepted"]:
        versions[rec["po_id"]].append(rec)
    receipts = {
        r["reference_id"]: r
        for r in judged["wms"]["accepted"]
        if r["event_type"] == "receipt" and r["reference_id"]
    }
    on_time: dict[str, list[bool]] = defaultdict(list)
    for po, lines in versions.items():
        first = lines[0]
        assert first["status"] == "open" and first["updated_at"] == first["ordered_at"]
        assert first["promised_at"] > first["ordered_at"]
        assert len(lines) <= 2 and all(
            {k: v for k, v in line.items() if k not in ("status", "updated_at")}
            == {k: v for k, v in first.items() if k not in ("status", "updated_at")}
            for line in lines
        )
        last = lines[-1]
        if last["status"] == "closed":
            got = receipts[po]
            assert (got["sku_id"], got["location_id"]) == (first["sku_id"], first["location_id"])
            assert got["base_qty"] == first["ordered_qty"]
            assert first["ordered_at"] < got["event_ts"] < last["updated_at"]
            on_time[first["supplier_id"]].append(got["event_ts"] <= first["promised_at"])
        else:
            assert po not in receipts
    assert {lines[-1]["status"] for lines in versions.values()} == PO_STATUSES
    rates = [sum(v) / len(v) for v in on_time.values()]
    assert len(rates) >= 3 and max(rates) - min(rates) >= 0.5, on_time


def test_transfers_pair_up(written):
    _, _, judged = written
    outs = {
        r["reference_id"]: r for r in judged["wms"]["accepted"] if r["event_type"] == "transfer_out"
    }
    ins = [r for r in judged["wms"]["accepted"] if r["event_type"] == "transfer_in"]
    assert ins
    for rec in ins:
        sent = outs[rec["reference_id"]]
        assert sent["location_id"] != rec["location_id"]
        assert sent["base_qty"] == -rec["base_qty"]
        assert sent["event_ts"] < rec["event_ts"]


def test_counts_see_the_stock_they_count(written):
    out, _, judged = written
    by_pair: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = defaultdict(list)
    for rec in judged["wms"]["accepted"]:
        if WMS_TYPES[rec["event_type"]][0] == "on_hand":
            by_pair[(rec["sku_id"], rec["location_id"])].append((rec["event_ts"], rec["base_qty"]))
    counts = _csv(out / "physical_counts.csv")
    assert counts
    exact = 0
    for row in counts:
        at = datetime.fromisoformat(row["counted_at"])
        moves = by_pair[(row["sku_id"], row["location_id"])]
        assert all(ts != at for ts, _ in moves)
        assert at.weekday() < 5 and 7 <= at.hour < 19
        system = sum((q for ts, q in moves if ts <= at), Decimal(0))
        counted = Decimal(row["counted_qty"])
        assert counted >= 0
        exact += counted == system
    assert exact >= 0.5 * len(counts)


def test_live_feed_is_deterministic_and_never_oversells():
    cfg = SimConfig(seed=11, n_skus=30, orders_per_day=2000, bad_share=0.0, duplicate_share=0.0)
    start = datetime(2027, 3, 1, 9, tzinfo=UTC)
    first = list(islice(live_records(cfg, start), 20_000))
    assert first == list(islice(live_records(cfg, start), 20_000))
    assert {s for s, _ in first} == {"wms", "mes", "orders", "po"}
    plant = build_plant(cfg)
    factor = {(s.sku_id, uom): f for s in plant.skus for uom, f in s.packs}
    buckets: dict[tuple[str, str], dict[str, float]] = defaultdict(
        lambda: {"on_hand": 0, "held": 0, "reserved": 0}
    )
    newest = start
    for source, rec in first:
        ts = datetime.fromisoformat(rec["event_ts" if source in ("wms", "mes") else "updated_at"])
        assert ts >= newest
        newest = ts
        if source == "wms":
            assert rec["event_id"].startswith("W-20270301090000-")
            b = buckets[(rec["sku_id"], rec["location_id"])]
            b[WMS_TYPES[rec["event_type"]][0]] += rec["qty_delta"] * factor.get(
                (rec["sku_id"], rec.get("uom")), 1
            )
            assert min(b.values()) >= 0 and b["held"] + b["reserved"] <= b["on_hand"], rec


def test_live_planner_orders_each_open_request_once_and_receives_it():
    from dagster_project.core.simulate.planner import Request

    cfg = SimConfig(seed=11, n_skus=30, orders_per_day=2000, bad_share=0.0, duplicate_share=0.0)
    start = datetime(2027, 3, 1, 9, tzinfo=UTC)  # a Monday: the planner works at once
    sku = build_plant(cfg).skus[0].sku_id
    asked = Request(request_id=7, sku_id=sku, location_id="WH-01", qty=37)
    polls = []

    def requests() -> list[Request]:
        polls.append(1)
        return [asked]  # still open at every look: ordered once all the same

    feed = list(islice(live_records(cfg, start, requests=requests), 60_000))

    ours = [
        r
        for s, r in feed
        if s == "po"
        and (r["sku_id"], r["location_id"]) == (sku, "WH-01")
        and r["ordered_qty"] == 37
    ]
    assert len(polls) > 1
    assert [r["status"] for r in ours] == ["open", "closed"]
    placed = datetime.fromisoformat(ours[0]["ordered_at"])
    assert timedelta(hours=2) <= placed - start < timedelta(hours=3)
    receipts = [r for s, r in feed if s == "wms" and r.get("reference_id") == ours[0]["po_id"]]
    assert len(receipts) == 1 and receipts[0]["event_type"] == "receipt"
    assert receipts[0]["event_ts"] < ours[1]["updated_at"]
