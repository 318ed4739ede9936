"""The inputs of DOMAIN.md as data: fields, keys and the rules a record must satisfy to be accepted.

Rules are SQL expressions over the typed columns that yield a reason (text) or null; they run
only on records whose fields all parsed, so each can assume its columns have the right type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Kind(Enum):
    TEXT = "text"
    NUMERIC = "numeric"
    INTEGER = "integer"
    TIMESTAMPTZ = "timestamptz"


class Bound(Enum):
    """DOMAIN.md "Bounds on input values": what a numeric field may hold."""

    QUANTITY = "quantity"  # quantities and costs: |x| < 10^12
    POSITIVE = "positive"  # factors, lead times, review periods: 0 < x < 10^6
    DAYS = "days"  # a spread of days that may be 0 (lead_time_std_days): x < 10^6


# Identifiers (ids, types, units) are at most this long; free text (a description) is not bounded.
MAX_IDENTIFIER = 200
# Timestamps must fall in these UTC years.
FIRST_YEAR, LAST_YEAR = 1970, 2200


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = False
    default: str | None = None  # SQL literal used when the field is absent
    bound: Bound | None = None  # numeric fields only
    free_text: bool = False  # a text field that is not an identifier: no length bound

    @property
    def sql_type(self) -> str:
        return self.kind.value


@dataclass(frozen=True)
class Source:
    name: str
    table: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    rules: tuple[str, ...] = ()
    # append: a known key with other content is a conflict (quarantined).
    # upsert: reference data; a known key with other content replaces the stored row.
    mode: str = "append"
    # Columns computed from reference data at ingest, stored beside the record: name -> SQL.
    derived: dict[str, str] = field(default_factory=dict)
    # A key column whose absence makes the record a new version instead of a conflict
    # (order lines without updated_at: received now, so later than every explicit version).
    version_column: str | None = None

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def content_columns(self) -> list[str]:
        return [c for c in self.columns if c not in self.key]

    @property
    def is_event(self) -> bool:
        return self.mode == "append"


# A reason quotes at most this many characters of a value: enough to recognise it, and under
# DOMAIN.md's 1 KB even in 4-byte UTF-8, however long the value.
QUOTE_CHARS = 200


def shown(value: str) -> str:
    """SQL: the value as text for a reason, cut to QUOTE_CHARS characters."""
    text = f"({value})::text"
    return (
        f"case when length({text}) > {QUOTE_CHARS} "
        f"then left({text}, {QUOTE_CHARS}) || '…' else {text} end"
    )


BOUND_TEXT = {
    Bound.QUANTITY: "below 10^12 in absolute value",
    Bound.POSITIVE: "positive and below 10^6",
    Bound.DAYS: "below 10^6",
}
BOUND_BROKEN = {
    Bound.QUANTITY: "abs({0}) >= 1e12",
    Bound.POSITIVE: "({0} <= 0 or {0} >= 1e6)",
    Bound.DAYS: "{0} >= 1e6",
}


def bound_rule(f: Field) -> str | None:
    """SQL yielding the reason when the typed field breaks its DOMAIN.md bound, else null."""
    n = f.name
    if f.kind is Kind.TEXT and not f.free_text:
        return (
            f"case when length({n}) > {MAX_IDENTIFIER} then format("
            f"'{n} must be at most {MAX_IDENTIFIER} characters, got %s', length({n})) end"
        )
    if f.kind is Kind.TIMESTAMPTZ:
        return (
            f"case when {n} < '{FIRST_YEAR}-01-01 00:00:00+00' "
            f"or {n} >= '{LAST_YEAR + 1}-01-01 00:00:00+00' then format("
            f"'{n} must be in the years {FIRST_YEAR} to {LAST_YEAR} (UTC), got %s', {n}) end"
        )
    if f.bound is not None:
        return (
            f"case when {BOUND_BROKEN[f.bound].format(n)} then format("
            f"'{n} must be {BOUND_TEXT[f.bound]}, got %s', {shown(n)}) end"
        )
    return None


def _one_of(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return (
        f"case when {column} not in ({listed}) then format('unknown {column} %s (expected one of "
        f"{', '.join(values)})', quote_literal({shown(column)})) end"
    )


def _at_least(column: str, bound: str, strict: bool = False) -> str:
    op, word = ("<=", ">") if strict else ("<", ">=")
    return (
        f"case when {column} {op} {bound} then format('{column} must be {word} {bound}, got %s', "
        f"{shown(column)}) end"
    )


WMS_IN = ("receipt", "return", "transfer_in", "hold", "reserve")
WMS_OUT = ("issue", "transfer_out", "release", "unreserve")
WMS_TYPES = (*WMS_IN, *WMS_OUT, "adjust")

_QTY_DELTA = shown("qty_delta")

WMS = Source(
    name="wms",
    table="raw.wms_events",
    key=("event_id",),
    fields=(
        Field("event_id", Kind.TEXT, required=True),
        Field("event_type", Kind.TEXT, required=True),
        Field("sku_id", Kind.TEXT, required=True),
        Field("location_id", Kind.TEXT, required=True),
        Field("qty_delta", Kind.NUMERIC, required=True, bound=Bound.QUANTITY),
        Field("unit_cost", Kind.NUMERIC, bound=Bound.QUANTITY),
        Field("uom", Kind.TEXT),
        Field("event_ts", Kind.TIMESTAMPTZ, required=True),
        Field("reference_id", Kind.TEXT),
    ),
    derived={
        "uom_factor": """
            case
                when t.uom is null then 1
                when t.uom = (select s.base_uom from raw.skus as s where s.sku_id = t.sku_id) then 1
                else (
                    select c.factor_to_base from raw.uom_conversions as c
                    where c.sku_id = t.sku_id and c.uom = t.uom
                )
            end""",
    },
    rules=(
        _one_of("event_type", WMS_TYPES),
        "case when qty_delta = 0 then 'qty_delta must not be zero' end",
        f"""case
            when event_type in ({", ".join(f"'{t}'" for t in WMS_IN)}) and qty_delta < 0
                then format('qty_delta must be > 0 for %s, got %s', event_type, {_QTY_DELTA})
            when event_type in ({", ".join(f"'{t}'" for t in WMS_OUT)}) and qty_delta > 0
                then format('qty_delta must be < 0 for %s, got %s', event_type, {_QTY_DELTA})
        end""",
        "case when event_type = 'receipt' and unit_cost is null"
        " then 'unit_cost is required on a receipt' end",
        _at_least("unit_cost", "0"),
        "case when uom is not null and uom_factor is null then format("
        "'unknown unit %s for SKU %s: not its base unit and no uom_conversions row',"
        f" quote_literal({shown('uom')}), quote_literal({shown('sku_id')})) end",
    ),
)

MES = Source(
    name="mes",
    table="raw.mes_events",
    key=("event_id",),
    fields=(
        Field("event_id", Kind.TEXT, required=True),
        Field("order_id", Kind.TEXT, required=True),
        Field("sku_id", Kind.TEXT, required=True),
        Field("work_center_id", Kind.TEXT, required=True),
        Field("event_type", Kind.TEXT, required=True),
        Field("qty", Kind.NUMERIC, required=True, bound=Bound.QUANTITY),
        Field("scrap_qty", Kind.NUMERIC, default="0", bound=Bound.QUANTITY),
        Field("bom_level", Kind.INTEGER),
        Field("event_ts", Kind.TIMESTAMPTZ, required=True),
    ),
    rules=(
        _one_of("event_type", ("start", "complete", "scrap")),
        _at_least("qty", "0"),
        _at_least("scrap_qty", "0"),
        _at_least("bom_level", "0"),
    ),
)

ORDERS = Source(
    name="orders",
    table="raw.order_lines",
    key=("order_id", "line_id", "updated_at"),
    version_column="updated_at",
    fields=(
        Field("order_id", Kind.TEXT, required=True),
        Field("line_id", Kind.TEXT, required=True),
        Field("sku_id", Kind.TEXT, required=True),
        Field("location_id", Kind.TEXT, required=True),
        Field("quantity", Kind.NUMERIC, required=True, bound=Bound.QUANTITY),
        Field("status", Kind.TEXT, required=True),
        Field("order_ts", Kind.TIMESTAMPTZ, required=True),
        Field("updated_at", Kind.TIMESTAMPTZ),
    ),
    rules=(
        _one_of("status", ("placed", "completed", "cancelled")),
        _at_least("quantity", "0", strict=True),
    ),
)

# A purchase order line (DOMAIN.md "Purchase orders"): versioned by updated_at as order lines are.
PURCHASE_ORDERS = Source(
    name="po",
    table="raw.purchase_orders",
    key=("po_id", "line_id", "updated_at"),
    version_column="updated_at",
    fields=(
        Field("po_id", Kind.TEXT, required=True),
        Field("line_id", Kind.TEXT, required=True),
        Field("supplier_id", Kind.TEXT, required=True),
        Field("sku_id", Kind.TEXT, required=True),
        Field("location_id", Kind.TEXT, required=True),
        Field("ordered_qty", Kind.NUMERIC, required=True, bound=Bound.QUANTITY),
        Field("ordered_at", Kind.TIMESTAMPTZ, required=True),
        Field("promised_at", Kind.TIMESTAMPTZ),
        Field("status", Kind.TEXT, required=True),
        Field("updated_at", Kind.TIMESTAMPTZ),
    ),
    rules=(
        _one_of("status", ("open", "cancelled", "closed")),
        _at_least("ordered_qty", "0", strict=True),
    ),
)

COUNTS = Source(
    name="counts",
    table="raw.physical_counts",
    key=("count_id",),
    fields=(
        Field("count_id", Kind.TEXT, required=True),
        Field("sku_id", Kind.TEXT, required=True),
        Field("location_id", Kind.TEXT, required=True),
        Field("counted_qty", Kind.NUMERIC, required=True, bound=Bound.QUANTITY),
        Field("counted_at", Kind.TIMESTAMPTZ, required=True),
        Field("counted_by", Kind.TEXT),
    ),
    rules=(_at_least("counted_qty", "0"),),
)

SKUS = Source(
    name="skus",
    table="raw.skus",
    key=("sku_id",),
    mode="upsert",
    fields=(
        Field("sku_id", Kind.TEXT, required=True),
        Field("description", Kind.TEXT, free_text=True),
        Field("base_uom", Kind.TEXT, required=True),
        Field("abc_class", Kind.TEXT),
    ),
    rules=(_one_of("abc_class", ("A", "B", "C")),),
)

UOM = Source(
    name="uom",
    table="raw.uom_conversions",
    key=("sku_id", "uom"),
    mode="upsert",
    fields=(
        Field("sku_id", Kind.TEXT, required=True),
        Field("uom", Kind.TEXT, required=True),
        Field("factor_to_base", Kind.NUMERIC, required=True, bound=Bound.POSITIVE),
    ),
)

SKU_PARAMS = Source(
    name="sku-params",
    table="raw.sku_params",
    key=("sku_id", "location_id"),
    mode="upsert",
    fields=(
        Field("sku_id", Kind.TEXT, required=True),
        Field("location_id", Kind.TEXT),
        Field("lead_time_days", Kind.NUMERIC, bound=Bound.POSITIVE),
        Field("lead_time_std_days", Kind.NUMERIC, bound=Bound.DAYS),
        Field("service_level", Kind.NUMERIC),
        Field("reorder_point", Kind.NUMERIC, bound=Bound.QUANTITY),
        Field("safety_stock", Kind.NUMERIC, bound=Bound.QUANTITY),
        Field("order_qty", Kind.NUMERIC, bound=Bound.QUANTITY),
        Field("order_multiple", Kind.NUMERIC, bound=Bound.QUANTITY),
        Field("min_order_qty", Kind.NUMERIC, bound=Bound.QUANTITY),
        Field("review_period_days", Kind.NUMERIC, bound=Bound.POSITIVE),
        Field("max_days_of_cover", Kind.NUMERIC, bound=Bound.POSITIVE),
    ),
    rules=(
        _at_least("lead_time_std_days", "0"),
        "case when service_level <= 0 or service_level >= 1 then format("
        "'service_level must be between 0 and 1 (exclusive), got %s', "
        f"{shown('service_level')}) end",
        _at_least("reorder_point", "0"),
        _at_least("safety_stock", "0"),
        _at_least("order_qty", "0", strict=True),
        _at_least("order_multiple", "0", strict=True),
        _at_least("min_order_qty", "0"),
    ),
)

EVENT_SOURCES = {s.name: s for s in (WMS, MES, ORDERS, PURCHASE_ORDERS)}
REFERENCE_SOURCES = {s.name: s for s in (SKUS, SKU_PARAMS, UOM, COUNTS)}
SOURCES = {**EVENT_SOURCES, **REFERENCE_SOURCES}
