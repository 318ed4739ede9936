"""Duplicates are judged on parsed values; the first arrival wins; re-runs change nothing."""

from __future__ import annotations

from tests.ingest.helpers import ingest, load_reference, quarantine_reasons, write_lines
from tests.ingest.test_validation import MES, ORDER, PO_LINE, RECEIPT, change

RESPELLED = (
    '{ "event_ts": "2026-11-02T08:00:00.000+00:00",  "qty_delta": "10.0", "unit_cost": 2.50,'
    ' "location_id": "WH1", "sku_id": "S1", "event_type": "receipt", "event_id": "W1",'
    ' "uom": null, "reference_id": ""}'
)


def counts(result) -> tuple[int, int, int]:
    return result.accepted, result.duplicates, result.quarantined


def test_same_record_spelled_differently_is_a_duplicate(conn, tmp_path):
    load_reference(conn, tmp_path)

    result = ingest(conn, "wms", write_lines(tmp_path / "w.jsonl", [RECEIPT, RESPELLED]))

    assert counts(result) == (1, 1, 0)


def test_same_key_other_content_is_quarantined_and_first_arrival_wins(conn, tmp_path):
    load_reference(conn, tmp_path)
    lines = [RECEIPT, change(RECEIPT, qty_delta=11), RESPELLED]

    result = ingest(conn, "wms", write_lines(tmp_path / "w.jsonl", lines))

    assert counts(result) == (1, 1, 1)
    assert quarantine_reasons(conn) == [(2, "event_id='W1' repeats line 1 with other content")]
    assert conn.execute("select qty_delta from raw.wms_events").fetchone()[0] == 10


def test_conflict_with_a_stored_event_is_quarantined(conn, tmp_path):
    load_reference(conn, tmp_path)
    ingest(conn, "wms", write_lines(tmp_path / "a.jsonl", [RECEIPT]))

    later = [change(RECEIPT, unit_cost=3), RESPELLED, change(RECEIPT, event_id="W2")]
    result = ingest(conn, "wms", write_lines(tmp_path / "b.jsonl", later))

    assert counts(result) == (1, 1, 1)
    assert quarantine_reasons(conn) == [(1, "event_id='W1' was already stored with other content")]


def test_rerunning_a_file_changes_nothing(conn, tmp_path):
    load_reference(conn, tmp_path)
    lines = [
        RECEIPT,
        "garbage",
        change(RECEIPT, event_id="W2"),
        change(RECEIPT, event_id="W3", qty_delta=-1),
    ]
    path = write_lines(tmp_path / "w.jsonl", lines)
    first = ingest(conn, "wms", path)
    snapshot = conn.execute("select * from raw.wms_events order by ingest_seq").fetchall()
    quarantined = conn.execute("select count(*) from raw.quarantine").fetchone()

    again = ingest(conn, "wms", path)

    assert counts(first) == (2, 0, 2)
    assert counts(again) == (0, 2, 2)
    assert conn.execute("select * from raw.wms_events order by ingest_seq").fetchall() == snapshot
    assert conn.execute("select count(*) from raw.quarantine").fetchone() == quarantined


def test_absent_scrap_qty_equals_zero(conn, tmp_path):
    lines = [MES, change(MES, scrap_qty=0), change(MES, scrap_qty="0.00")]

    result = ingest(conn, "mes", write_lines(tmp_path / "m.jsonl", lines))

    assert counts(result) == (1, 2, 0)


def test_order_line_versions(conn, tmp_path):
    placed = change(ORDER, updated_at="2026-11-02T08:00:00Z")
    completed = change(ORDER, status="completed", updated_at="2026-11-03T08:00:00Z")
    lines = [
        placed,
        completed,
        change(completed, updated_at="2026-11-03T09:00:00+01:00"),  # same instant: duplicate
        change(completed, quantity=4),  # same key and updated_at, other content: conflict
        change(ORDER, status="cancelled", updated_at=...),  # no updated_at: a new version
        change(ORDER, status="cancelled", updated_at=...),  # identical again: duplicate
        change(ORDER, line_id=2, updated_at=...),  # integer line_id as text
    ]

    result = ingest(conn, "orders", write_lines(tmp_path / "o.jsonl", lines))

    assert counts(result) == (4, 2, 1)
    assert quarantine_reasons(conn) == [
        (
            4,
            "order_id='SO1' line_id='1' updated_at='2026-11-03 08:00:00+00' repeats line 2 "
            "with other content",
        )
    ]
    versions = conn.execute(
        "select line_id, status, updated_at is null from raw.order_lines order by ingest_seq"
    ).fetchall()
    assert versions == [
        ("1", "placed", False),
        ("1", "completed", False),
        ("1", "cancelled", True),
        ("2", "placed", True),
    ]


def test_purchase_order_line_versions(conn, tmp_path):
    opened = change(PO_LINE, updated_at="2026-11-01T08:00:00Z")
    cut = change(PO_LINE, ordered_qty=60, updated_at="2026-11-02T08:00:00Z")
    lines = [
        opened,
        cut,
        # the same instant and numbers spelled otherwise: a duplicate
        change(cut, ordered_qty="60.00", updated_at="2026-11-02T09:00:00+01:00"),
        # same key (po, line, updated_at), other content: a conflict
        change(cut, status="cancelled"),
        change(PO_LINE, status="closed", updated_at=...),  # no updated_at: a new version
        change(PO_LINE, status="closed", updated_at=...),  # identical again: a duplicate
        change(PO_LINE, line_id=2, promised_at=None),  # integer line_id as text, no promise
    ]

    result = ingest(conn, "po", write_lines(tmp_path / "po.jsonl", lines))

    assert counts(result) == (4, 2, 1)
    assert quarantine_reasons(conn) == [
        (
            4,
            "po_id='PO1' line_id='1' updated_at='2026-11-02 08:00:00+00' repeats line 2 "
            "with other content",
        )
    ]
    versions = conn.execute(
        "select line_id, ordered_qty, status, promised_at is null, updated_at is null"
        " from raw.purchase_orders order by ingest_seq"
    ).fetchall()
    assert versions == [
        ("1", 100, "open", False, False),
        ("1", 60, "open", False, False),
        ("1", 100, "closed", False, True),
        ("2", 100, "open", True, True),
    ]
    # a later file: the stored version wins over a conflicting one, the same one is a duplicate
    again = ingest(
        conn, "po", write_lines(tmp_path / "po2.jsonl", [cut, change(opened, supplier_id="X")])
    )
    assert counts(again) == (0, 1, 1)


def test_unversioned_order_line_sent_again_later_is_a_duplicate(conn, tmp_path):
    path = write_lines(tmp_path / "o.jsonl", [ORDER])
    ingest(conn, "orders", path)

    assert counts(ingest(conn, "orders", path)) == (0, 1, 0)
    changed = ingest(conn, "orders", write_lines(tmp_path / "p.jsonl", [change(ORDER, quantity=9)]))
    assert counts(changed) == (1, 0, 0)


def test_ingest_seq_follows_line_order_across_batches(conn, tmp_path):
    load_reference(conn, tmp_path)
    first = [change(RECEIPT, event_id=f"A{i}") for i in range(3)]
    second = [change(RECEIPT, event_id=f"B{i}") for i in range(2)]
    a = ingest(conn, "wms", write_lines(tmp_path / "a.jsonl", first))
    b = ingest(conn, "wms", write_lines(tmp_path / "b.jsonl", second))

    rows = conn.execute("select ingest_seq, event_id from raw.wms_events order by 1").fetchall()

    assert [e for _, e in rows] == ["A0", "A1", "A2", "B0", "B1"]
    assert (a.first_seq, a.last_seq, b.first_seq, b.last_seq) == (1, 3, 4, 5)
    batches = conn.execute(
        "select source, received, accepted, first_seq, last_seq from raw.ingest_batches"
        " where source = 'wms' order by batch_id"
    ).fetchall()
    assert batches == [("wms", 3, 3, 1, 3), ("wms", 2, 2, 4, 5)]
