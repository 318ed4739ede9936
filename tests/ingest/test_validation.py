"""Every acceptance rule of DOMAIN.md, one record at a time, against the real landing schema."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.ingest.helpers import ingest, load_reference, quarantine_reasons, write_lines

RECEIPT = {
    "event_id": "W1",
    "event_type": "receipt",
    "sku_id": "S1",
    "location_id": "WH1",
    "qty_delta": 10,
    "unit_cost": 2.5,
    "event_ts": "2026-11-02T08:00:00Z",
}
MES = {
    "event_id": "M1",
    "order_id": "WO1",
    "sku_id": "S1",
    "work_center_id": "WC1",
    "event_type": "start",
    "qty": 5,
    "event_ts": "2026-11-02T08:00:00Z",
}
ORDER = {
    "order_id": "SO1",
    "line_id": "1",
    "sku_id": "S1",
    "location_id": "WH1",
    "quantity": 3,
    "status": "placed",
    "order_ts": "2026-11-02T08:00:00Z",
}

PO_LINE = {
    "po_id": "PO1",
    "line_id": "1",
    "supplier_id": "SUP1",
    "sku_id": "S1",
    "location_id": "WH1",
    "ordered_qty": 100,
    "ordered_at": "2026-11-01T08:00:00Z",
    "promised_at": "2026-11-08T08:00:00Z",
    "status": "open",
}


def change(base: dict, **fields) -> dict:
    """The base record with fields replaced; a field set to ... is removed."""
    record = {**base, **fields}
    return {k: v for k, v in record.items() if v is not ...}


REJECTED = [
    ("wms", '{"event_id": "W1", "event_type":', "malformed JSON"),
    ("wms", "[1, 2, 3]", "not a JSON object"),
    ("wms", '"just a string"', "not a JSON object"),
    ("wms", change(RECEIPT, event_id=...), "missing event_id"),
    ("wms", change(RECEIPT, event_id="  "), "missing event_id"),
    ("wms", change(RECEIPT, event_id=None), "missing event_id"),
    ("wms", change(RECEIPT, event_id=1.5), "event_id must be text"),
    ("wms", change(RECEIPT, event_id=True), "event_id must be text"),
    ("wms", change(RECEIPT, sku_id=...), "missing sku_id"),
    ("wms", change(RECEIPT, location_id=...), "missing location_id"),
    ("wms", change(RECEIPT, event_ts=...), "missing event_ts"),
    ("wms", change(RECEIPT, qty_delta=...), "missing qty_delta"),
    ("wms", change(RECEIPT, qty_delta=True), "qty_delta must be a number"),
    ("wms", change(RECEIPT, qty_delta="abc"), "qty_delta must be a number"),
    ("wms", change(RECEIPT, qty_delta="NaN"), "qty_delta must be a number"),
    ("wms", change(RECEIPT, qty_delta="Infinity"), "qty_delta must be a number"),
    ("wms", change(RECEIPT, qty_delta="0x10"), "qty_delta must be a number"),
    ("wms", change(RECEIPT, qty_delta=[1]), "qty_delta must be a number"),
    (
        "wms",
        '{"event_id":"W1","event_type":"receipt","sku_id":"S1","location_id":"L",'
        '"qty_delta":NaN,"unit_cost":1,"event_ts":"2026-11-02T08:00:00Z"}',
        "malformed JSON",
    ),
    ("wms", change(RECEIPT, qty_delta=0), "qty_delta must not be zero"),
    ("wms", change(RECEIPT, event_type="RECEIPT"), "unknown event_type 'RECEIPT'"),
    ("wms", change(RECEIPT, event_type="teleport"), "unknown event_type 'teleport'"),
    ("wms", change(RECEIPT, qty_delta=-3), "qty_delta must be > 0 for receipt"),
    ("wms", change(RECEIPT, event_type="return", qty_delta=-3), "must be > 0 for return"),
    ("wms", change(RECEIPT, event_type="transfer_in", qty_delta=-3), "> 0 for transfer_in"),
    ("wms", change(RECEIPT, event_type="hold", qty_delta=-3), "must be > 0 for hold"),
    ("wms", change(RECEIPT, event_type="reserve", qty_delta=-3), "must be > 0 for reserve"),
    ("wms", change(RECEIPT, event_type="issue", qty_delta=3), "must be < 0 for issue"),
    ("wms", change(RECEIPT, event_type="transfer_out", qty_delta=3), "< 0 for transfer_out"),
    ("wms", change(RECEIPT, event_type="release", qty_delta=3), "must be < 0 for release"),
    ("wms", change(RECEIPT, event_type="unreserve", qty_delta=3), "must be < 0 for unreserve"),
    ("wms", change(RECEIPT, unit_cost=...), "unit_cost is required on a receipt"),
    ("wms", change(RECEIPT, unit_cost=-1), "unit_cost must be >= 0"),
    ("wms", change(RECEIPT, event_type="issue", qty_delta=-1, unit_cost=-1), "unit_cost must"),
    ("wms", change(RECEIPT, uom="PAL"), "unknown unit 'PAL' for SKU 'S1'"),
    ("wms", change(RECEIPT, uom="BAG"), "unknown unit 'BAG' for SKU 'S1'"),
    ("wms", change(RECEIPT, sku_id="S9", uom="EA"), "unknown unit 'EA' for SKU 'S9'"),
    ("wms", change(RECEIPT, event_ts="yesterday"), "event_ts must be an ISO-8601 timestamp"),
    ("wms", change(RECEIPT, event_ts="now"), "event_ts must be an ISO-8601 timestamp"),
    ("wms", change(RECEIPT, event_ts="13/45/2026"), "event_ts must be an ISO-8601"),
    ("wms", change(RECEIPT, event_ts="2026-02-30T08:00:00Z"), "event_ts must be an ISO-8601"),
    ("wms", change(RECEIPT, event_ts="2026-11-02 08:00 PST"), "event_ts must be an ISO-8601"),
    ("wms", change(RECEIPT, event_ts=1762070400), "event_ts must be an ISO-8601"),
    ("mes", change(MES, event_type="pause"), "unknown event_type 'pause'"),
    ("mes", change(MES, qty=-1), "qty must be >= 0"),
    ("mes", change(MES, qty=...), "missing qty"),
    ("mes", change(MES, scrap_qty=-2), "scrap_qty must be >= 0"),
    ("mes", change(MES, bom_level="x"), "bom_level must be an integer"),
    ("mes", change(MES, bom_level=1.5), "bom_level must be an integer"),
    ("mes", change(MES, work_center_id=...), "missing work_center_id"),
    ("orders", change(ORDER, quantity=0), "quantity must be > 0"),
    ("orders", change(ORDER, quantity=-2), "quantity must be > 0"),
    ("orders", change(ORDER, status="shipped"), "unknown status 'shipped'"),
    ("orders", change(ORDER, status="Placed"), "unknown status 'Placed'"),
    ("orders", change(ORDER, order_ts=...), "missing order_ts"),
    ("orders", change(ORDER, updated_at="soon"), "updated_at must be an ISO-8601"),
    ("po", change(PO_LINE, ordered_qty=0), "ordered_qty must be > 0"),
    ("po", change(PO_LINE, ordered_qty=-5), "ordered_qty must be > 0"),
    ("po", change(PO_LINE, ordered_qty=1e12), "ordered_qty must be below 10^12"),
    ("po", change(PO_LINE, status="received"), "unknown status 'received'"),
    ("po", change(PO_LINE, status="Open"), "unknown status 'Open'"),
    ("po", change(PO_LINE, supplier_id=...), "missing supplier_id"),
    ("po", change(PO_LINE, ordered_at=...), "missing ordered_at"),
    ("po", change(PO_LINE, promised_at="next week"), "promised_at must be an ISO-8601"),
    ("po", change(PO_LINE, updated_at="2301-01-01T00:00:00Z"), "updated_at must be in the years"),
]


@pytest.mark.parametrize(("source", "record", "reason"), REJECTED)
def test_rejected_record_is_quarantined_with_its_reason(conn, tmp_path, source, record, reason):
    load_reference(conn, tmp_path)
    path = write_lines(tmp_path / f"{source}.jsonl", [record])

    result = ingest(conn, source, path)

    assert result.counts() == {"received": 1, "accepted": 0, "duplicates": 0, "quarantined": 1}
    [(line_no, stored_reason)] = quarantine_reasons(conn)
    assert line_no == 1
    assert reason in stored_reason
    raw = conn.execute("select raw_text from raw.quarantine").fetchone()[0]
    assert raw == path.read_text().rstrip("\n")


def test_all_problems_of_a_record_are_listed(conn, tmp_path):
    record = change(RECEIPT, sku_id=..., qty_delta="x", event_ts="later")
    ingest(conn, "wms", write_lines(tmp_path / "w.jsonl", [record]))

    [(_, reason)] = quarantine_reasons(conn)
    assert reason.split("; ") == [
        "missing sku_id",
        'qty_delta must be a number, got "x"',
        'event_ts must be an ISO-8601 timestamp, got "later"',
    ]


ACCEPTED = [
    ("integer event_id as text", change(RECEIPT, event_id=7), "event_id", "7"),
    ("numeric string", change(RECEIPT, qty_delta="12.50"), "qty_delta", Decimal("12.5")),
    ("exponent", change(RECEIPT, qty_delta=1.2e1), "qty_delta", Decimal("12")),
    ("zero unit cost", change(RECEIPT, unit_cost=0), "unit_cost", Decimal("0")),
    (
        "no offset means UTC",
        change(RECEIPT, event_ts="2026-11-02T08:00:00"),
        "event_ts",
        datetime(2026, 11, 2, 8, tzinfo=UTC),
    ),
    (
        "offset converted to UTC",
        change(RECEIPT, event_ts="2026-11-02T09:30:00+01:30"),
        "event_ts",
        datetime(2026, 11, 2, 8, tzinfo=UTC),
    ),
    ("text is trimmed", change(RECEIPT, sku_id=" S1 "), "sku_id", "S1"),
    ("base unit spelled out", change(RECEIPT, uom="EA"), "uom_factor", Decimal("1")),
    ("case pack", change(RECEIPT, uom="CS"), "uom_factor", Decimal("12")),
    ("no unit", RECEIPT, "uom_factor", Decimal("1")),
    ("unknown SKU without unit", change(RECEIPT, sku_id="S404"), "sku_id", "S404"),
    (
        "adjust either sign",
        change(RECEIPT, event_type="adjust", qty_delta=-2),
        "qty_delta",
        Decimal("-2"),
    ),
    (
        "issue may carry a cost",
        change(RECEIPT, event_type="issue", qty_delta=-1, unit_cost=3),
        "unit_cost",
        Decimal("3"),
    ),
    ("unknown fields ignored", change(RECEIPT, operator="kim"), "event_id", "W1"),
]


@pytest.mark.parametrize(("case", "record", "column", "stored"), ACCEPTED)
def test_accepted_wms_record_is_stored_typed(conn, tmp_path, case, record, column, stored):
    load_reference(conn, tmp_path)
    result = ingest(conn, "wms", write_lines(tmp_path / "w.jsonl", [record]))

    assert result.accepted == 1, quarantine_reasons(conn)
    assert conn.execute(f"select {column} from raw.wms_events").fetchone()[0] == stored


def test_mes_defaults_and_types(conn, tmp_path):
    records = [change(MES, bom_level="2"), change(MES, event_id="M2", scrap_qty="1.5")]
    assert ingest(conn, "mes", write_lines(tmp_path / "m.jsonl", records)).accepted == 2

    rows = conn.execute("select event_id, scrap_qty, bom_level from raw.mes_events order by 1")
    assert rows.fetchall() == [("M1", Decimal("0"), 2), ("M2", Decimal("1.5"), None)]


def test_blank_lines_are_not_records(conn, tmp_path):
    path = tmp_path / "w.jsonl"
    path.write_text("\n" + __import__("json").dumps(RECEIPT) + "\n   \n")
    load_reference(conn, tmp_path)

    result = ingest(conn, "wms", path)

    assert result.counts() == {"received": 1, "accepted": 1, "duplicates": 0, "quarantined": 0}


def test_invalid_utf8_is_quarantined_with_its_bytes_escaped(conn, tmp_path):
    path = tmp_path / "w.jsonl"
    path.write_bytes(b'{"event_id": "W\xff1"}\n')

    result = ingest(conn, "wms", path)

    assert result.quarantined == 1
    raw, reason, payload = conn.execute(
        "select raw_text, reason, payload from raw.quarantine"
    ).fetchone()
    assert raw == '{"event_id": "W\\xff1"}'
    assert reason.startswith("not valid UTF-8")
    assert payload is None


def test_line_numbers_follow_the_file(conn, tmp_path):
    load_reference(conn, tmp_path)
    lines = [
        RECEIPT,
        "oops",
        change(RECEIPT, event_id="W2"),
        "",
        "{",
        change(RECEIPT, event_id="W3"),
    ]

    result = ingest(conn, "wms", write_lines(tmp_path / "w.jsonl", lines))

    assert result.counts() == {"received": 5, "accepted": 3, "duplicates": 0, "quarantined": 2}
    assert [n for n, _ in quarantine_reasons(conn)] == [2, 5]
