"""Quarantine-worthy records and exact re-sends, each unambiguous under DOMAIN.md's rules."""

from __future__ import annotations

import random
from collections.abc import Callable

import orjson

from dagster_project.core.simulate.plant import Plant

BAD_KINDS = {
    "wms": (
        "malformed",
        "missing_field",
        "mistyped_field",
        "nan_number",
        "zero_qty",
        "unknown_event_type",
        "sign_mismatch",
        "bad_unit_cost",
        "unknown_uom",
        "conflict",
    ),
    "mes": (
        "malformed",
        "missing_field",
        "mistyped_field",
        "unknown_event_type",
        "negative_qty",
        "conflict",
    ),
    "orders": (
        "malformed",
        "missing_field",
        "mistyped_field",
        "bad_quantity",
        "unknown_status",
        "conflict",
    ),
    "po": (
        "malformed",
        "missing_field",
        "mistyped_field",
        "bad_quantity",
        "unknown_status",
        "conflict",
    ),
}
KEY_FIELD = {"wms": "event_id", "mes": "event_id", "orders": "order_id", "po": "po_id"}
FRESH_PREFIX = {"wms": "W-", "mes": "M-", "orders": "SO-", "po": "PO-"}
# The quantity and the instant each source's bad records break.
QUANTITY_FIELD = {"wms": "qty_delta", "mes": "qty", "orders": "quantity", "po": "ordered_qty"}
TIME_FIELD = {"wms": "event_ts", "mes": "event_ts", "orders": "order_ts", "po": "ordered_at"}
# Statuses close to the valid ones (case, tense, another source's) but not valid.
WRONG_STATUSES = {"orders": ("shipped", "Completed", "open"), "po": ("received", "Open", "placed")}
REQUIRED = {
    "wms": ("event_id", "sku_id", "location_id", "qty_delta", "event_ts"),
    "mes": ("event_id", "sku_id", "work_center_id", "event_type", "qty", "event_ts"),
    "orders": ("order_id", "line_id", "sku_id", "location_id", "quantity", "status", "order_ts"),
    "po": (
        "po_id",
        "line_id",
        "supplier_id",
        "sku_id",
        "location_id",
        "ordered_qty",
        "ordered_at",
        "status",
    ),
}
TEXT_FIELDS = frozenset(
    {
        "event_id",
        "sku_id",
        "location_id",
        "work_center_id",
        "event_type",
        "order_id",
        "status",
        "po_id",
        "supplier_id",
    }
)
NUMBER_FIELDS = frozenset({"qty_delta", "unit_cost", "qty", "scrap_qty", "quantity", "ordered_qty"})
TIME_FIELDS = frozenset({"event_ts", "order_ts", "updated_at", "ordered_at", "promised_at"})
OPTIONAL_NULLS = {
    "wms": ("uom", "unit_cost", "reference_id"),
    "mes": ("bom_level",),
    "orders": (),
    "po": (),
}
_NAN = "__nan__"

Payload = dict | str


class Corruptor:
    """Makes bad records and re-sends for one source from its clean records."""

    def __init__(self, source: str, plant: Plant, rng: random.Random, tag: str = "") -> None:
        self.source, self.rng, self.tag = source, rng, tag
        self.fresh = 0
        self.sku_uoms = {s.sku_id: {s.base_uom, *(u for u, _ in s.packs)} for s in plant.skus}
        self.all_uoms = sorted(set().union(*self.sku_uoms.values()))
        self.makers: dict[str, Callable[[dict], Payload]] = {
            "malformed": self._malformed,
            "missing_field": self._missing,
            "mistyped_field": self._mistyped,
            "nan_number": self._nan,
            "zero_qty": self._zero,
            "unknown_event_type": self._unknown_type,
            "sign_mismatch": self._sign,
            "bad_unit_cost": self._unit_cost,
            "unknown_uom": self._uom,
            "negative_qty": self._negative,
            "bad_quantity": self._quantity,
            "unknown_status": self._status,
            "conflict": self._conflict,
        }

    def needs(self, kind: str, rec: dict) -> bool:
        """Whether `rec` can serve as the template for a bad record of this kind."""
        if kind == "sign_mismatch":
            return rec["event_type"] != "adjust"
        if kind == "bad_unit_cost":
            return rec["event_type"] == "receipt"
        return True

    def bad(self, kind: str, template: dict) -> Payload:
        """A copy of `template` broken one way; all but conflicts get a fresh key (with an `X`,
        which clean ids never carry)."""
        rec = dict(template)
        if kind != "conflict":
            self.fresh += 1
            key = KEY_FIELD[self.source]
            width = 7 if self.source == "orders" else 8
            rec[key] = f"{FRESH_PREFIX[self.source]}{self.tag}X{self.fresh:0{width}d}"
        payload = self.makers[kind](rec)
        if isinstance(payload, dict) and payload.get("qty_delta") == _NAN:
            return orjson.dumps(payload).decode().replace(f'"{_NAN}"', "NaN")
        return payload

    def _malformed(self, rec: dict) -> str:
        text = orjson.dumps(rec).decode()
        if self.rng.random() < 0.25:
            return " ".join(f"{k}={v}" for k, v in rec.items())
        return text[: self.rng.randint(5, len(text) - 2)]

    def _missing(self, rec: dict) -> dict:
        field = self.rng.choice(REQUIRED[self.source])
        mode = self.rng.choice(
            ("absent", "null", "blank")
            if field in TEXT_FIELDS or field in TIME_FIELDS
            else ("absent", "null")
        )
        if mode == "absent":
            rec.pop(field)
        else:
            rec[field] = None if mode == "null" else ""
        return rec

    def _mistyped(self, rec: dict) -> dict:
        numeric, when = QUANTITY_FIELD[self.source], TIME_FIELD[self.source]
        options: list[tuple[str, object]] = [
            (numeric, True),
            (numeric, "abc"),
            (numeric, [1]),
            (when, "yesterday"),
            (when, "13/45/2026"),
            (when, "2026-13-45T25:61:00Z"),
        ]
        if self.source == "mes":
            options = [("bom_level", "x"), ("bom_level", "two"), ("bom_level", True), *options]
        field, value = self.rng.choice(options)
        rec[field] = value
        return rec

    def _nan(self, rec: dict) -> dict:
        rec["qty_delta"] = self.rng.choice(("NaN", "Infinity", "-Infinity", _NAN))
        return rec

    def _zero(self, rec: dict) -> dict:
        rec["qty_delta"] = self.rng.choice((0, 0.0, "0"))
        return rec

    def _unknown_type(self, rec: dict) -> dict:
        choices = {
            "wms": ("RECEIPT", "teleport", "Issue", "transfer in"),
            "mes": ("COMPLETE", "pause", "Start"),
        }[self.source]
        rec["event_type"] = self.rng.choice(choices)
        return rec

    def _sign(self, rec: dict) -> dict:
        rec["qty_delta"] = -rec["qty_delta"]
        return rec

    def _unit_cost(self, rec: dict) -> dict:
        mode = self.rng.choice(("absent", "null", "negative"))
        if mode == "absent":
            rec.pop("unit_cost")
        else:
            rec["unit_cost"] = None if mode == "null" else -round(rec["unit_cost"] + 1.0, 2)
        return rec

    def _uom(self, rec: dict) -> dict:
        known = self.sku_uoms.get(rec["sku_id"], set())
        foreign = [u for u in self.all_uoms if u not in known]
        rec["uom"] = self.rng.choice(foreign) if foreign and self.rng.random() < 0.5 else "PALLETX"
        return rec

    def _negative(self, rec: dict) -> dict:
        if self.rng.random() < 0.5:
            rec["qty"] = -(rec["qty"] or 1)
        else:
            rec["scrap_qty"] = -(rec.get("scrap_qty") or 1)
        return rec

    def _quantity(self, rec: dict) -> dict:
        rec[QUANTITY_FIELD[self.source]] = self.rng.choice((0, -2, "0", -0.5))
        return rec

    def _status(self, rec: dict) -> dict:
        rec["status"] = self.rng.choice(WRONG_STATUSES[self.source])
        return rec

    def _conflict(self, rec: dict) -> dict:
        field = QUANTITY_FIELD[self.source]
        value = rec[field]
        rec[field] = value * 2 if value else 1
        return rec

    def resend(self, rec: dict) -> str:
        """The same record with other spelling: key order, spacing, numbers, instants, nulls."""
        rng = self.rng
        items = list(rec.items())
        for field in OPTIONAL_NULLS[self.source]:
            if field not in rec and rng.random() < 0.5:
                items.append((field, None))
        if self.source == "mes":
            scrap = rec.get("scrap_qty")
            if scrap is None and rng.random() < 0.5:
                items.append(("scrap_qty", 0))
            elif scrap == 0 and rng.random() < 0.5:
                items = [(k, v) for k, v in items if k != "scrap_qty"]
        if rng.random() < 0.6:
            rng.shuffle(items)
        parts = []
        for key, value in items:
            if key in NUMBER_FIELDS and value is not None and rng.random() < 0.6:
                text = _respell_number(value, rng)
            elif key in TIME_FIELDS and rng.random() < 0.6:
                text = f'"{_respell_instant(value, rng)}"'
            elif key == "line_id" and isinstance(value, int) and rng.random() < 0.3:
                text = f'"{value}"'
            else:
                text = orjson.dumps(value).decode()
            parts.append((orjson.dumps(key).decode(), text))
        colon, comma = (": ", ", ") if rng.random() < 0.5 else (":", ",")
        body = comma.join(f"{k}{colon}{v}" for k, v in parts)
        pad = rng.choice(("", " ", "  "))
        out = f"{pad}{{{body}}}{rng.choice(('', ' ', chr(9)))}"
        if out == orjson.dumps(rec).decode():
            out = f"{{ {body} }}"
        return out


def _respell_number(value: float, rng: random.Random) -> str:
    if isinstance(value, int):
        return rng.choice((f"{value}.0", f'"{value}"', f"{value}e0", f"{value}.00"))
    text = repr(value)
    plain = str(int(value)) if value.is_integer() else text + "0"
    return rng.choice((plain, f'"{text}"', f"{text}0" if "e" not in text else text))


def _respell_instant(value: str, rng: random.Random) -> str:
    if value.endswith("Z"):
        body, other = value[:-1], "+00:00"
    else:
        body, other = value[:-6], "Z"
    options = [body + other, body + "000" + other]
    if value.endswith("Z"):
        options.append(body + "000Z")
    else:
        options.append(body + "000+00:00")
    return rng.choice(options)


def resend_dict(rec: dict, rng: random.Random) -> dict:
    """Dict-level re-send for live mode: numbers as strings or floats, the other UTC suffix."""
    out = {}
    items = list(rec.items())
    rng.shuffle(items)
    for key, value in items:
        if key in NUMBER_FIELDS and isinstance(value, int | float) and rng.random() < 0.5:
            out[key] = str(value) if rng.random() < 0.5 else float(value)
        elif key in TIME_FIELDS and isinstance(value, str) and rng.random() < 0.5:
            out[key] = _respell_instant(value, rng)
        else:
            out[key] = value
    return out
