"""Reference data is upserted from CSV; quarantined records return once their reference exists."""

from __future__ import annotations

from decimal import Decimal

from dagster_project.core.ingest import SOURCES, replay_quarantine
from tests.ingest.helpers import ingest, load_reference, quarantine_reasons, write_lines
from tests.ingest.test_validation import RECEIPT, change

PARAMS_HEADER = (
    "sku_id,location_id,lead_time_days,lead_time_std_days,service_level,reorder_point,"
    "safety_stock,order_qty,order_multiple,min_order_qty,review_period_days,max_days_of_cover\n"
)


def write(path, text: str):
    path.write_text(text)
    return path


def test_skus_upsert_counts_changes_and_unchanged_rows(conn, tmp_path):
    load_reference(conn, tmp_path)
    changed = (
        "sku_id,description,base_uom,abc_class\nS1,Bolt M8,EA,A\nS2,Steel coil,KG,C\nS3,Nut,EA,\n"
    )

    result = ingest(conn, "skus", write(tmp_path / "skus2.csv", changed))

    assert (result.accepted, result.duplicates, result.quarantined) == (2, 1, 0)
    rows = conn.execute("select sku_id, abc_class from raw.skus order by 1").fetchall()
    assert rows == [("S1", "A"), ("S2", "C"), ("S3", None)]


def test_reference_rows_are_validated(conn, tmp_path):
    text = (
        "sku_id,description,base_uom,abc_class\n"
        "S1,ok,EA,A\n"
        "S2,no unit,,B\n"
        "S3,bad class,EA,D\n"
        "S4,too,many,cells,here\n"
        'S5,"quoted, with comma",EA,C\n'
    )
    result = ingest(conn, "skus", write(tmp_path / "skus.csv", text))

    assert (result.accepted, result.quarantined) == (2, 3)
    assert quarantine_reasons(conn) == [
        (3, "missing base_uom"),
        (4, "unknown abc_class 'D' (expected one of A, B, C)"),
        (5, "malformed CSV: expected 4 cells, got 5"),
    ]
    raw = conn.execute("select raw_text from raw.quarantine where line_no = 5").fetchone()[0]
    assert raw == "S4,too,many,cells,here"
    assert conn.execute("select description from raw.skus where sku_id = 'S5'").fetchone()[0] == (
        "quoted, with comma"
    )


def test_sku_params_all_locations_row_and_location_row_are_separate_keys(conn, tmp_path):
    first = PARAMS_HEADER + "S1,,10,2,0.95,,,,,,,\nS1,WH1,5,,,,,,,,,\n"
    second = PARAMS_HEADER + "S1,,12,2,0.95,,,,,,,\nS1,WH1,5,,,,,,,,,\nS2,,,,1.5,,,,,,,\n"

    ingest(conn, "sku-params", write(tmp_path / "p1.csv", first))
    result = ingest(conn, "sku-params", write(tmp_path / "p2.csv", second))

    assert (result.accepted, result.duplicates, result.quarantined) == (1, 1, 1)
    rows = conn.execute(
        "select location_id, lead_time_days, service_level from raw.sku_params"
        " order by 1 nulls first"
    ).fetchall()
    assert rows == [(None, Decimal("12"), Decimal("0.95")), ("WH1", Decimal("5"), None)]
    [(_, reason)] = quarantine_reasons(conn)
    assert reason == "service_level must be between 0 and 1 (exclusive), got 1.5"


def test_counts_are_append_only(conn, tmp_path):
    header = "count_id,sku_id,location_id,counted_qty,counted_at,counted_by\n"
    ingest(
        conn,
        "counts",
        write(tmp_path / "c1.csv", header + "C1,S1,WH1,40,2026-11-03T10:00:00Z,kim\n"),
    )

    again = (
        header
        + "C1,S1,WH1,40.0,2026-11-03 10:00:00+00,kim\nC1,S1,WH1,41,2026-11-03T10:00:00Z,kim\n"
    )
    result = ingest(conn, "counts", write(tmp_path / "c2.csv", again))

    assert (result.accepted, result.duplicates, result.quarantined) == (0, 1, 1)
    assert conn.execute("select counted_qty from raw.physical_counts").fetchone()[0] == 40


def test_replay_accepts_records_once_their_unit_exists(conn, tmp_path):
    load_reference(conn, tmp_path)
    lines = [change(RECEIPT, uom="PAL"), change(RECEIPT, event_id="W2", uom="PAL"), "broken"]
    ingest(conn, "wms", write_lines(tmp_path / "w.jsonl", lines))
    assert len(quarantine_reasons(conn)) == 3

    still = replay_quarantine(conn, SOURCES["wms"])
    assert (still.received, still.accepted, still.quarantined) == (3, 0, 3)

    ingest(conn, "uom", write(tmp_path / "pal.csv", "sku_id,uom,factor_to_base\nS1,PAL,480\n"))
    replayed = replay_quarantine(conn, SOURCES["wms"])

    assert (replayed.received, replayed.accepted, replayed.duplicates) == (3, 2, 0)
    assert replayed.quarantined == 1
    assert [reason for _, reason in quarantine_reasons(conn)] == [
        'malformed JSON: invalid input syntax for type json (Token "broken" is invalid.)'
    ]
    factors = conn.execute("select event_id, uom_factor from raw.wms_events order by 1").fetchall()
    assert factors == [("W1", Decimal("480")), ("W2", Decimal("480"))]
    resolved = conn.execute(
        "select count(*) from raw.quarantine"
        " where resolution = 'accepted' and resolved_batch_id = %s",
        [replayed.batch_id],
    ).fetchone()[0]
    assert resolved == 2


def test_replay_of_a_record_that_arrived_meanwhile_is_a_duplicate(conn, tmp_path):
    load_reference(conn, tmp_path)
    ingest(conn, "wms", write_lines(tmp_path / "a.jsonl", [change(RECEIPT, uom="PAL")]))
    ingest(conn, "uom", write(tmp_path / "pal.csv", "sku_id,uom,factor_to_base\nS1,PAL,480\n"))
    ingest(conn, "wms", write_lines(tmp_path / "b.jsonl", [change(RECEIPT, uom="PAL")]))

    replayed = replay_quarantine(conn, SOURCES["wms"])

    assert (replayed.accepted, replayed.duplicates, replayed.quarantined) == (0, 1, 0)
    assert conn.execute("select resolution from raw.quarantine").fetchone()[0] == "duplicate"


def test_csv_events_and_gzip(conn, tmp_path):
    import gzip

    load_reference(conn, tmp_path)
    text = (
        "event_id,event_type,sku_id,location_id,qty_delta,unit_cost,uom,event_ts,reference_id\n"
        "W1,receipt,S1,WH1,2,30,CS,2026-11-02T08:00:00Z,PO-1\n"
        "W2,issue,S1,WH1,-5,,,2026-11-02T09:00:00Z,\n"
    )
    path = tmp_path / "w.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))

    result = ingest(conn, "wms", path)

    assert result.accepted == 2
    rows = conn.execute("select event_id, qty_delta * uom_factor from raw.wms_events order by 1")
    assert rows.fetchall() == [("W1", Decimal("24")), ("W2", Decimal("-5"))]
