"""Every mart, maintained incrementally across chunks of a random stream, equals an independent
plain-Python computation of DOMAIN.md; a full rebuild gives the same marts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory.manifest import Mart, read_marts
from dagster_project.core.inventory.refresh import refresh
from dagster_project.core.settings import Settings
from tests.reference.domain import (
    DAY,
    HOUR,
    PLANNING_UNIT,
    Landing,
    compute_marts,
    load_landing,
)

SKUS = ["S1", "S2", "S3"]
LOCATIONS = ["L1", "L2"]
WORK_CENTERS = ["WC1", "WC2"]
EPOCH = datetime(2026, 9, 1, tzinfo=UTC)
LAST_AS_OF = EPOCH + timedelta(days=45, hours=13, minutes=17, seconds=5)
SIGNS = {
    "receipt": 1,
    "return": 1,
    "transfer_in": 1,
    "hold": 1,
    "reserve": 1,
    "issue": -1,
    "transfer_out": -1,
    "release": -1,
    "unreserve": -1,
    "adjust": -1,
}
# The marts the reference computes: those of this domain (reconciliation's marts are checked
# against hand-worked counts in tests/reconciliation/).
REFERENCE_DOMAIN = "inventory"
GUIDE = "docs/adding-a-mart.md#the-reference"

# shown to 4 decimals; those that depend on the safety stock carry its rounding
PLANNING_FIGURES = {"safety_stock", "reorder_point", "qty_below_rop"}

HOURS_BETWEEN = [0, 1, 26, 24 * 8]
# Instants anywhere, and on the edges that matter: window and slice boundaries of every as_of a
# test uses (as_of - k days, to the second), UTC midnights and whole hours.
anywhere = st.integers(min_value=0, max_value=45 * 24 * 3600).map(
    lambda s: EPOCH + timedelta(seconds=s)
)
window_edges = st.builds(
    lambda k, h, nudge: LAST_AS_OF - timedelta(days=k, hours=h, seconds=nudge),
    st.integers(0, 31),
    st.sampled_from([h * i for h in HOURS_BETWEEN for i in (0, 1, 2)]),
    st.sampled_from([-1, 0, 1]),
)
calendar_edges = st.builds(
    lambda d, h, nudge: EPOCH + timedelta(days=d, hours=h, seconds=nudge),
    st.integers(14, 46),
    st.sampled_from([0, 13]),
    st.sampled_from([-1, 0]),
)
instants = st.one_of(anywhere, window_edges, calendar_edges)
# quantities around the slice and window boundaries matter more than their size
quantities = st.sampled_from([1, 2, 3, 5, 8, 40, 250, 1200])


@st.composite
def wms_event(draw, n: int):
    event_type = draw(st.sampled_from(sorted(SIGNS)))
    sku = draw(st.sampled_from(SKUS))
    record = {
        "event_id": f"W{n}",
        "event_type": event_type,
        "sku_id": sku,
        "location_id": draw(st.sampled_from(LOCATIONS)),
        "qty_delta": SIGNS[event_type] * draw(quantities),
        "event_ts": draw(instants).isoformat(),
    }
    if event_type == "adjust" and draw(st.booleans()):
        record["qty_delta"] = -record["qty_delta"]
    if event_type == "receipt":
        record["unit_cost"] = str(
            draw(st.sampled_from([Decimal("0"), Decimal("1.25"), Decimal("7")]))
        )
    if sku == "S1" and draw(st.booleans()):
        record["uom"] = "CS"
    if event_type == "receipt" and draw(st.integers(0, 2)) > 0:
        # mostly the PO usually placed for this pair (po_pair), sometimes any PO (no line to
        # receive against, or a line for another pair)
        usual = next(k for k in range(6) if po_pair(k) == (sku, record["location_id"]))
        record["reference_id"] = f"PO{draw(st.sampled_from([usual, usual, usual, *range(6)]))}"
    return record


@st.composite
def mes_event(draw, n: int):
    event_type = draw(st.sampled_from(["start", "complete", "scrap"]))
    record = {
        "event_id": f"M{n}",
        "order_id": f"WO{draw(st.integers(0, 5))}",
        "sku_id": draw(st.sampled_from(SKUS)),
        "work_center_id": draw(st.sampled_from(WORK_CENTERS)),
        "event_type": event_type,
        "qty": 0 if event_type == "scrap" else draw(quantities),
        "event_ts": draw(
            st.one_of(
                st.integers(0, 8 * 24 * 60).map(lambda m: EPOCH + timedelta(days=40, minutes=m)),
                window_edges,
            )
        ).isoformat(),
    }
    if draw(st.booleans()):
        record["scrap_qty"] = draw(st.sampled_from([0, 1, 2, 7]))
    return record


@st.composite
def order_version(draw, n: int):
    order = draw(st.integers(0, 30))
    record = {
        "order_id": f"SO{order}",
        "line_id": str(draw(st.integers(1, 2))),
        "sku_id": draw(st.sampled_from(SKUS)),
        "location_id": draw(st.sampled_from(LOCATIONS)),
        "quantity": draw(quantities),
        "status": draw(st.sampled_from(["placed", "completed", "completed", "cancelled"])),
        "order_ts": draw(instants).isoformat(),
    }
    if draw(st.integers(0, 4)) > 0:
        record["updated_at"] = (
            EPOCH + timedelta(seconds=n * 97 + draw(st.integers(0, 90)))
        ).isoformat()
    return record


def po_pair(k: int) -> tuple[str, str]:
    """The pair PO{k} is usually placed for: the six POs cover the six pairs."""
    return SKUS[k % 3], LOCATIONS[k % 2]


@st.composite
def po_version(draw, n: int):
    k = draw(st.integers(0, 5))
    sku, location = po_pair(k)
    if draw(st.integers(0, 4)) == 0:  # sometimes a line for another pair
        sku, location = draw(st.sampled_from(SKUS)), draw(st.sampled_from(LOCATIONS))
    record = {
        "po_id": f"PO{k}",
        "line_id": str(draw(st.integers(1, 3))),
        "supplier_id": "SUP1",
        "sku_id": sku,
        "location_id": location,
        "ordered_qty": draw(quantities),
        # ties on ordered_at are broken by line_id
        "ordered_at": draw(st.sampled_from([EPOCH, EPOCH + timedelta(days=3)])).isoformat(),
        "status": draw(st.sampled_from(["open", "open", "open", "cancelled", "closed"])),
    }
    if draw(st.integers(0, 4)) > 0:
        record["updated_at"] = (
            EPOCH + timedelta(seconds=n * 97 + draw(st.integers(0, 90)))
        ).isoformat()
    return record


# Lead times: lines received at a few pairs, so that some reach the 5 lines health measures
# from. S2 has no lead time parameter anywhere, S3@L2 neither; S1@L1 has one (param wins).
MEASURED_PAIRS = [("S2", "L1"), ("S2", "L1"), ("S3", "L2"), ("S1", "L1")]
ninety_day_edges = st.builds(
    lambda h, nudge: LAST_AS_OF - timedelta(days=90, hours=h, seconds=nudge),
    st.sampled_from([h * i for h in HOURS_BETWEEN for i in (0, 1, 2)]),
    st.sampled_from([-1, 0, 1]),
)


@st.composite
def received_po_line(draw, n: int):
    """A one-line PO and the receipts against it: in full at once, in two parts, or short."""
    sku, location = draw(st.sampled_from(MEASURED_PAIRS))
    first = draw(st.one_of(instants, ninety_day_edges))
    ordered_at = first - draw(
        st.sampled_from([timedelta(0), timedelta(hours=30), 3 * DAY, 9 * DAY])
    )
    po = {
        "po_id": f"LT{n}",
        "line_id": "1",
        "supplier_id": draw(st.sampled_from(["SUP1", "SUP2"])),
        "sku_id": sku,
        "location_id": location,
        "ordered_qty": 10,
        "ordered_at": ordered_at.isoformat(),
        "status": draw(st.sampled_from(["open", "closed"])),
    }
    promise = draw(st.sampled_from([None, timedelta(hours=30), 2 * DAY, 5 * DAY]))
    if promise is not None:
        po["promised_at"] = (ordered_at + promise).isoformat()
    parts = draw(st.sampled_from([[10], [4, 6], [4]]))
    gaps = [timedelta(0), draw(st.sampled_from([timedelta(0), HOUR, 2 * DAY]))]
    receipts = [
        {
            "event_id": f"LTW{n}-{i}",
            "event_type": "receipt",
            "sku_id": sku,
            "location_id": location,
            "qty_delta": qty,
            "unit_cost": "1",
            "event_ts": (first + gaps[i]).isoformat(),
            "reference_id": po["po_id"],
        }
        for i, qty in enumerate(parts)
    ]
    return po, receipts


@st.composite
def chunk(draw, start: int):
    n = draw(st.integers(5, 40))
    return {
        "wms": [draw(wms_event(start + i)) for i in range(n)],
        "mes": [draw(mes_event(start + i)) for i in range(draw(st.integers(0, 12)))],
        "orders": [draw(order_version(start + i)) for i in range(draw(st.integers(0, 15)))],
        "po": [draw(po_version(start + i)) for i in range(draw(st.integers(0, 8)))],
    }


@st.composite
def streams(draw):
    chunks = [draw(chunk(1000 * i)) for i in range(3)]
    # re-sends of earlier records arrive in later chunks: duplicates change nothing
    for i in (1, 2):
        earlier = chunks[i - 1]["wms"]
        chunks[i]["wms"] += draw(st.lists(st.sampled_from(earlier), max_size=3))
    for i, part in enumerate(chunks):
        for n in range(draw(st.integers(3, 7))):
            po, receipts = draw(received_po_line(1000 * i + n))
            part["po"].append(po)
            part["wms"] += receipts
    return chunks


PARAMS_CSV = (
    (
        "sku_id,location_id,lead_time_days,lead_time_std_days,service_level,reorder_point,"
        "safety_stock,order_qty,order_multiple,min_order_qty,review_period_days,max_days_of_cover\n"
    )
    + """S1,,5,1,0.9,,,,10,20,7,30
S1,L2,3,,,,,50,,,,
S2,,,,,40,,,6,,,
S3,L1,2,0.5,0.99,,15,,,,14,10
"""
)


@pytest.fixture
def reference_data(conn, tmp_path):
    from tests.ingest.helpers import ingest

    (tmp_path / "skus.csv").write_text("sku_id,base_uom\nS1,EA\nS2,EA\nS3,KG\n")
    (tmp_path / "uom.csv").write_text("sku_id,uom,factor_to_base\nS1,CS,12\n")
    (tmp_path / "params.csv").write_text(PARAMS_CSV)
    ingest(conn, "skus", tmp_path / "skus.csv")
    ingest(conn, "uom", tmp_path / "uom.csv")
    ingest(conn, "sku-params", tmp_path / "params.csv")


@cache
def reference_marts() -> dict[str, Mart]:
    """The marts of REFERENCE_DOMAIN, from the dbt manifest: a new one is checked too."""
    return {m.name: m for m in read_marts(Settings()) if m.domain == REFERENCE_DOMAIN}


def key_of(name: str) -> tuple[str, ...]:
    return reference_marts()[name].key


def read_mart(conn, name: str) -> list[dict]:
    cursor = conn.execute(f"select * from marts.{name}")
    columns = [c.name for c in cursor.description]
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return sorted(rows, key=lambda r: tuple(r[k] for k in key_of(name)))


def assert_rows_equal(name: str, got: list[dict], expected: list[dict], as_of: datetime) -> None:
    assert [tuple(r[k] for k in key_of(name)) for r in got] == [
        tuple(r[k] for k in key_of(name)) for r in expected
    ], name
    for g, e in zip(got, expected, strict=True):
        if "as_of" not in e:  # the reference leaves it out where it is not a formula's input
            stamped = g.pop("as_of")
            # inventory_position is as of the read, the others as of the refresh
            assert stamped is not None if name == "inventory_position" else stamped == as_of
        assert set(g) == set(e), name
        for column, want in e.items():
            have = g[column]
            if isinstance(want, Decimal) and isinstance(have, Decimal):
                # a figure shown to 4 decimals may round the other way (z is approximated in SQL)
                unit = PLANNING_UNIT if column in PLANNING_FIGURES else 0
                tolerance = max(Decimal("1e-6") * max(1, abs(want)), unit)
                assert abs(have - want) <= tolerance, (name, column, g, e)
            else:
                assert have == want, (name, column, g, e)


def assert_marts_match(
    conn, as_of: datetime, marts: list[str] | None = None, refreshed: Landing | None = None
) -> None:
    expected = compute_marts(load_landing(conn), as_of, refreshed=refreshed)
    for name in marts or sorted(reference_marts()):
        assert_rows_equal(name, read_mart(conn, name), expected[name], as_of)


def coverage_gaps(marts: dict[str, Mart], reference: dict[str, list[dict]]) -> list[str]:
    """What keeps the reference from checking every mart: a mart it does not compute, one it
    gives no row on the sample, a column on one side only."""
    gaps = []
    for name, mart in sorted(marts.items()):
        if name not in reference:
            gaps.append(
                f"mart {name} is not in the reference: add its plain-Python computation to "
                f"compute_marts in tests/reference/domain.py ({GUIDE})"
            )
        elif not reference[name]:
            gaps.append(
                f"the reference gives mart {name} no row on SAMPLE in "
                f"tests/transform/test_marts_match_reference.py, so its columns go unchecked: "
                f"add records that give it one ({GUIDE})"
            )
        else:
            # the reference may leave as_of out: it is then checked against the refresh's instant
            computed = set(reference[name][0]) | {"as_of"}
            for column in [c for c in mart.columns if c not in computed]:
                gaps.append(f"mart {name}: the reference gives no column {column} ({GUIDE})")
            for column in sorted(computed - set(mart.columns)):
                gaps.append(
                    f"mart {name}: the reference gives a column {column} the mart does not "
                    f"declare ({GUIDE})"
                )
    return gaps


# A few records, in the streams' format, on which the reference gives every mart a row.
SAMPLE = {
    "wms": [
        # received in full against SPO1 (below), ordered 2 days before: lead_times
        {
            "event_type": "receipt",
            "qty_delta": 100,
            "unit_cost": "2",
            "days_ago": 5,
            "reference_id": "SPO1",
        },
        *({"event_type": "issue", "qty_delta": -5, "days_ago": 4 - i / 10} for i in range(5)),
        # 1200 against a median of 5: a movement spike
        {"event_type": "receipt", "qty_delta": 1200, "unit_cost": "2", "days_ago": 1},
        # S2 has 5 against its static reorder point of 40: a reorder alert
        {"event_type": "receipt", "qty_delta": 5, "unit_cost": "1", "days_ago": 3, "sku_id": "S2"},
        # S2/L2 runs out 2.5 days ago, has stock again 1 day ago, and runs out again when it is
        # reserved: a stockout episode that ended and one still open
        {
            "event_type": "receipt",
            "qty_delta": 5,
            "unit_cost": "1",
            "days_ago": 3,
            "sku_id": "S2",
            "location_id": "L2",
        },
        *(
            {"event_type": t, "qty_delta": q, "days_ago": d, "sku_id": "S2", "location_id": "L2"}
            for t, q, d in (("issue", -5, 2.5), ("return", 3, 1), ("reserve", 3, 0.5))
        ),
    ],
    "mes": [
        {"event_type": "start", "qty": 100, "hours_ago": 2},
        # 10 of 100 started in the same hour: a scrap-rate alert
        {"event_type": "scrap", "qty": 0, "scrap_qty": 10, "hours_ago": 1.9},
    ],
    "orders": [{"quantity": 40, "status": "completed", "days_ago": 2, "sku_id": "S2"}],
    "po": [{"ordered_qty": 100, "days_ago": 7, "promised_days_ago": 6}],
}


def sample_records() -> dict[str, list[dict]]:
    def at(spec: dict) -> str:
        ago = timedelta(days=spec.get("days_ago", 0), hours=spec.get("hours_ago", 0))
        return (LAST_AS_OF - ago).isoformat()

    shown = ("days_ago", "hours_ago")
    wms = [
        {"event_id": f"SW{n}", "sku_id": "S1", "location_id": "L1", "event_ts": at(spec)}
        | {k: v for k, v in spec.items() if k not in shown}
        for n, spec in enumerate(SAMPLE["wms"])
    ]
    mes = [
        {"event_id": f"SM{n}", "order_id": "WO1", "sku_id": "S1", "work_center_id": "WC1"}
        | {"event_ts": at(spec)}
        | {k: v for k, v in spec.items() if k not in shown}
        for n, spec in enumerate(SAMPLE["mes"])
    ]
    orders = [
        {"order_id": f"SO{n}", "line_id": "1", "sku_id": "S1", "location_id": "L1"}
        | {"order_ts": at(spec)}
        | {k: v for k, v in spec.items() if k not in shown}
        for n, spec in enumerate(SAMPLE["orders"])
    ]
    po = [
        {"po_id": f"SPO{n + 1}", "line_id": "1", "supplier_id": "SUP1", "sku_id": "S1"}
        | {"location_id": "L1", "status": "open", "ordered_at": at(spec)}
        | {"promised_at": at({"days_ago": spec["promised_days_ago"]})}
        | {"ordered_qty": spec["ordered_qty"]}
        for n, spec in enumerate(SAMPLE["po"])
    ]
    return {"wms": wms, "mes": mes, "orders": orders, "po": po}


@pytest.fixture
def reference_covers_every_mart(conn, reference_data) -> None:
    """Fail at once, before Hypothesis runs (and shrinks for minutes), when the reference
    cannot be compared with some mart."""
    for source, records in sample_records().items():
        result = ingest_records(conn, source, records, "sample")
        assert result.accepted == len(records), (source, result)
    gaps = coverage_gaps(reference_marts(), compute_marts(load_landing(conn), LAST_AS_OF))
    if gaps:
        pytest.fail("\n".join(gaps), pytrace=False)


def test_the_reference_covers_every_mart(reference_covers_every_mart) -> None:
    """The same check as a test of its own, for a run that leaves out the slow tests."""


def test_a_mart_the_reference_lacks_is_named(conn, reference_data) -> None:
    marts = reference_marts()
    position = marts["inventory_position"]
    days_idle = replace(position.columns["as_of"], name="days_idle")
    wider = replace(position, columns={**position.columns, "days_idle": days_idle})
    reference = compute_marts(load_landing(conn), LAST_AS_OF)
    del reference["wip_position"]
    gaps = coverage_gaps(
        {"inventory_position": wider, "wip_position": marts["wip_position"]}, reference
    )
    assert gaps == [
        f"the reference gives mart inventory_position no row on SAMPLE in "
        f"tests/transform/test_marts_match_reference.py, so its columns go unchecked: "
        f"add records that give it one ({GUIDE})",
        f"mart wip_position is not in the reference: add its plain-Python computation to "
        f"compute_marts in tests/reference/domain.py ({GUIDE})",
    ]
    for source, records in sample_records().items():
        ingest_records(conn, source, records, "sample")
    reference = compute_marts(load_landing(conn), LAST_AS_OF)
    assert coverage_gaps({"inventory_position": wider}, reference) == [
        f"mart inventory_position: the reference gives no column days_idle ({GUIDE})"
    ]


@pytest.mark.slow(180)  # seconds in a full run: the longest files start first
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    chunks=streams(),
    hours_between=st.sampled_from(HOURS_BETWEEN),
    late_wms=st.lists(st.integers(0, 10**6).flatmap(lambda n: wms_event(10**7 + n)), max_size=8),
)
def test_incremental_marts_equal_the_reference(
    conn, settings, reference_data, reference_covers_every_mart, chunks, hours_between, late_wms
):
    from dagster_project.core.db import connect
    from dagster_project.core.db.roles import SUPERUSER

    as_ofs = [LAST_AS_OF - timedelta(hours=hours_between * (2 - i)) for i in range(3)]
    with connect(settings, SUPERUSER) as fresh:
        fresh.execute(
            "truncate raw.wms_events, raw.mes_events, raw.order_lines, raw.purchase_orders"
        )
    for i, (part, as_of) in enumerate(zip(chunks, as_ofs, strict=True)):
        for source, records in part.items():
            if records:
                ingest_records(conn, source, records, f"chunk {i}")
        refresh(settings, as_of=as_of, full_refresh=(i == 0))
        assert_marts_match(conn, as_of)

    refresh(settings, as_of=as_ofs[-1], full_refresh=True)
    assert_marts_match(conn, as_ofs[-1])

    # stock is current on read: warehouse events ingested after the refresh already count (the
    # measured lead times, which late receipts against a PO change, are as of the refresh)
    refreshed = load_landing(conn)
    ingest_records(conn, "wms", chunks[0]["wms"][:5] + late_wms, "after the refresh")
    assert_marts_match(
        conn,
        as_ofs[-1],
        ["inventory_position", "inventory_health", "reorder_alerts"],
        refreshed=refreshed,
    )
