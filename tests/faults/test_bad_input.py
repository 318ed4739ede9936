"""Hostile input refuses records, never batches: each bad record is quarantined with a short reason
that names the bound it broke (DOMAIN.md "Bounds on input values"), and the rest of the file lands.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.core.ingest import SOURCES, replay_quarantine, statements
from tests.conftest import invoke_cli, run_cli
from tests.ingest.helpers import ingest, load_reference, write_lines
from tests.ingest.test_validation import MES, ORDER, RECEIPT, change

# DOMAIN.md: "a reason quotes at most 1 KB of [the raw text]"; the rest of a reason is short prose.
REASON_BYTES = 1024 + 512

WMS_HEADER = (
    "event_id,event_type,sku_id,location_id,qty_delta,unit_cost,uom,event_ts,reference_id\n"
)


def csv_row(event_id: str, location: str = "WH1", reference: str = "") -> str:
    return f"{event_id},receipt,S1,{location},2,30,,2026-11-02T08:00:00Z,{reference}\n"


def refused(conn: psycopg.Connection) -> list[tuple[int, str, str]]:
    return conn.execute(
        "select line_no, reason, raw_text from raw.quarantine where resolved_at is null"
        " order by line_no"
    ).fetchall()


def landed_ids(conn: psycopg.Connection) -> list[str]:
    return [r for (r,) in conn.execute("select event_id from raw.wms_events order by 1")]


def sandwich(conn, tmp_path, bad, source: str = "wms", base: dict = RECEIPT):
    """A good record, the bad one, another good one: the bad one alone must be refused."""
    key = "order_id" if source == "orders" else "event_id"
    lines = [change(base, **{key: "GOOD1"}), bad, change(base, **{key: "GOOD2"})]
    result = ingest(conn, source, write_lines(tmp_path / f"{source}.jsonl", lines))
    assert result.counts() == {"received": 3, "accepted": 2, "duplicates": 0, "quarantined": 1}
    [(line_no, reason, raw)] = refused(conn)
    assert line_no == 2
    assert len(reason.encode()) <= REASON_BYTES
    return reason, raw


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["1e200000", "-1e200000", "1e-200000", "1" * 140_000],
    ids=["huge-exponent", "negative-huge", "tiny-exponent", "140k-digits"],
)
def test_number_beyond_postgres_numeric_refuses_only_its_record(conn, tmp_path, number):
    load_reference(conn, tmp_path)
    line = json.dumps(change(RECEIPT, event_id="BAD")).replace('"qty_delta": 10', "")
    line = line.replace("{", '{"qty_delta": ' + number + ", ", 1)

    reason, raw = sandwich(conn, tmp_path, line)

    assert "10^12" in reason
    assert raw == line  # kept whole


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("qty_delta", 1e309),  # json.dumps writes Infinity: malformed
        ("qty_delta", "1e309"),
        ("qty_delta", 10**30),
        ("qty_delta", 10**12),
        ("qty_delta", "1000000000000"),
        ("unit_cost", 10**12),
        ("unit_cost", "1e100000"),
    ],
)
def test_quantities_and_costs_must_be_below_10_to_the_12(conn, tmp_path, field, value):
    load_reference(conn, tmp_path)
    bad = change(RECEIPT, event_id="BAD", **{field: value})
    if value == 1e309:
        bad = json.dumps(bad).replace("Infinity", "1e309")

    reason, _ = sandwich(conn, tmp_path, bad)

    assert f"{field} must be below 10^12 in absolute value" in reason


@pytest.mark.parametrize(
    ("source", "base", "field"),
    [
        ("wms", change(RECEIPT, event_type="issue", qty_delta=-1, unit_cost=...), "qty_delta"),
        ("mes", MES, "qty"),
        ("mes", MES, "scrap_qty"),
        ("orders", ORDER, "quantity"),
    ],
)
def test_every_event_quantity_is_bounded(conn, tmp_path, source, base, field):
    load_reference(conn, tmp_path)
    sign = -1 if base.get("event_type") == "issue" else 1
    key = "order_id" if source == "orders" else "event_id"

    reason, _ = sandwich(
        conn, tmp_path, change(base, **{key: "BAD", field: sign * 10**13}), source, base
    )

    assert f"{field} must be below 10^12 in absolute value" in reason


def test_largest_quantity_within_the_bound_is_accepted(conn, tmp_path):
    load_reference(conn, tmp_path)
    record = change(RECEIPT, qty_delta="999999999999.9999", unit_cost="999999999999")

    result = ingest(conn, "wms", write_lines(tmp_path / "w.jsonl", [record]))

    assert result.accepted == 1, refused(conn)


def test_many_huge_quantities_never_reach_on_hand(conn, tmp_path):
    """The 711-digit on-hand: out-of-range quantities are refused, so sums stay in range."""
    load_reference(conn, tmp_path)
    records = [change(RECEIPT, event_id=f"B{i}", qty_delta=f"1e{300 + i}") for i in range(50)]

    result = ingest(conn, "wms", write_lines(tmp_path / "w.jsonl", records))

    assert (result.accepted, result.quarantined) == (0, 50)


# --- text -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["event_id", "sku_id", "location_id", "uom", "reference_id"])
def test_identifiers_longer_than_200_characters_are_refused(conn, tmp_path, field):
    load_reference(conn, tmp_path)

    reason, _ = sandwich(conn, tmp_path, change(RECEIPT, **{"event_id": "BAD", field: "x" * 5000}))

    assert f"{field} must be at most 200 characters" in reason


def test_identifier_of_200_characters_is_accepted(conn, tmp_path):
    load_reference(conn, tmp_path)
    record = change(RECEIPT, event_id="e" * 200, reference_id="r" * 200)

    assert ingest(conn, "wms", write_lines(tmp_path / "w.jsonl", [record])).accepted == 1


def test_ten_megabyte_garbage_line_gets_a_short_reason_and_is_kept_whole(conn, tmp_path):
    garbage = "x" * 10_000_000

    reason, raw = sandwich(conn, tmp_path, garbage)

    assert reason.startswith("malformed JSON")
    assert raw == garbage
    stored = conn.execute("select sum(coalesce(octet_length(payload), 0)) from raw.quarantine")
    assert stored.fetchone()[0] == 0  # once: a JSON line is its own payload


@pytest.mark.parametrize(
    "garbage", ["[" * 100_000, '{"a":' * 50_000, "[" * 100_000 + "]" * 100_000]
)
def test_deeply_nested_json_refuses_only_its_record(conn, tmp_path, garbage):
    load_reference(conn, tmp_path)

    reason, raw = sandwich(conn, tmp_path, garbage)

    assert reason.startswith("malformed JSON")
    assert raw == garbage


def test_long_field_value_is_quoted_short(conn, tmp_path):
    load_reference(conn, tmp_path)

    reason, _ = sandwich(conn, tmp_path, change(RECEIPT, event_id="BAD", qty_delta="y" * 100_000))

    assert reason.startswith("qty_delta must be a number")


# --- timestamps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_ts", "1969-12-31T23:59:59Z"),
        ("event_ts", "2201-01-01T00:00:00Z"),
        ("event_ts", "9999-12-31T00:00:00Z"),
        ("event_ts", "2200-12-31T23:30:00-01:00"),  # 2201 in UTC
    ],
)
def test_timestamps_outside_1970_to_2200_are_refused(conn, tmp_path, field, value):
    load_reference(conn, tmp_path)

    reason, _ = sandwich(conn, tmp_path, change(RECEIPT, event_id="BAD", **{field: value}))

    assert f"{field} must be in the years 1970 to 2200" in reason


@pytest.mark.parametrize("value", ["1970-01-01T00:00:00Z", "2200-12-31T23:59:59.999Z"])
def test_timestamps_at_the_edges_are_accepted(conn, tmp_path, value):
    load_reference(conn, tmp_path)
    record = change(RECEIPT, event_ts=value)

    assert ingest(conn, "wms", write_lines(tmp_path / "w.jsonl", [record])).accepted == 1


def test_every_timestamp_of_an_order_line_is_bounded(conn, tmp_path):
    bad = change(ORDER, order_id="BAD", order_ts="1900-01-01", updated_at="2300-01-01")

    reason, _ = sandwich(conn, tmp_path, bad, "orders", ORDER)

    assert "order_ts must be in the years 1970 to 2200" in reason
    assert "updated_at must be in the years 1970 to 2200" in reason


# --- CSV ------------------------------------------------------------------------------------


def test_nul_byte_in_a_csv_field_refuses_only_its_record(conn, tmp_path):
    load_reference(conn, tmp_path)
    path = tmp_path / "w.csv"
    path.write_text(WMS_HEADER + csv_row("W1") + csv_row("W2", "WH\x001") + csv_row("W3"))

    result = ingest(conn, "wms", path)

    assert result.counts() == {"received": 3, "accepted": 2, "duplicates": 0, "quarantined": 1}
    [(line_no, reason, raw)] = refused(conn)
    assert line_no == 3
    assert "NUL" in reason
    assert raw == csv_row("W2", "WH\\x001").rstrip("\n")
    assert landed_ids(conn) == ["W1", "W3"]


def test_csv_field_over_128_kib_refuses_only_its_record(conn, tmp_path):
    load_reference(conn, tmp_path)
    path = tmp_path / "w.csv"
    huge = "r" * (130 * 1024)
    path.write_text(WMS_HEADER + csv_row("W1") + csv_row("W2", reference=huge) + csv_row("W3"))

    result = ingest(conn, "wms", path)

    assert result.counts() == {"received": 3, "accepted": 2, "duplicates": 0, "quarantined": 1}
    [(line_no, reason, raw)] = refused(conn)
    assert line_no == 3
    assert len(reason.encode()) <= REASON_BYTES
    assert raw == csv_row("W2", reference=huge).rstrip("\n")
    assert landed_ids(conn) == ["W1", "W3"]


def test_csv_field_over_128_kib_in_a_quoted_multiline_cell(conn, tmp_path):
    """The CSV reader gives up on the cell and resumes at the next line: the cell's other lines
    are refused as records of their own. Nothing is lost, and the file still lands."""
    load_reference(conn, tmp_path)
    path = tmp_path / "w.csv"
    huge = '"' + "a\n" * (70 * 1024) + '"'
    path.write_text(WMS_HEADER + csv_row("W1") + csv_row("W2", reference=huge) + csv_row("W3"))

    result = ingest(conn, "wms", path)

    assert result.received == result.accepted + result.quarantined
    assert result.received > 3
    assert "W1" in landed_ids(conn)
    assert "W2" not in landed_ids(conn)


# --- blank lines, BOM -----------------------------------------------------------------------


def test_blank_lines_of_any_whitespace_are_skipped_and_not_counted(conn, tmp_path):
    load_reference(conn, tmp_path)
    path = tmp_path / "w.jsonl"
    one, two = json.dumps(RECEIPT), json.dumps(change(RECEIPT, event_id="W2"))
    path.write_bytes(f"\r\n{one}\r\n\t\n \t \r\n{two}\n\x0b\x0c\n".encode())

    result = ingest(conn, "wms", path)

    assert result.counts() == {"received": 2, "accepted": 2, "duplicates": 0, "quarantined": 0}


def test_blank_csv_rows_of_any_whitespace_are_skipped(conn, tmp_path):
    load_reference(conn, tmp_path)
    path = tmp_path / "w.csv"
    path.write_bytes((WMS_HEADER + csv_row("W1") + "\r\n\t\n" + csv_row("W2")).encode())

    result = ingest(conn, "wms", path)

    assert result.counts() == {"received": 2, "accepted": 2, "duplicates": 0, "quarantined": 0}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_leading_bom_is_stripped_in_json_lines(conn, tmp_path, compress):
    load_reference(conn, tmp_path)
    text = b"\xef\xbb\xbf" + json.dumps(RECEIPT).encode() + b"\n"
    path = tmp_path / ("w.jsonl.gz" if compress else "w.jsonl")
    path.write_bytes(gzip.compress(text) if compress else text)

    result = ingest(conn, "wms", path)

    assert result.counts() == {"received": 1, "accepted": 1, "duplicates": 0, "quarantined": 0}


def test_leading_bom_is_stripped_in_csv(conn, tmp_path):
    load_reference(conn, tmp_path)
    path = tmp_path / "w.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (WMS_HEADER + csv_row("W1")).encode())

    result = ingest(conn, "wms", path)

    assert result.counts() == {"received": 1, "accepted": 1, "duplicates": 0, "quarantined": 0}


def test_bom_from_stdin_is_stripped(conn):
    done = run_cli(
        "ingest", "wms", "-", "--json", input=b"\xef\xbb\xbf" + json.dumps(RECEIPT).encode()
    )

    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["quarantined"] == 0


# --- files and formats ----------------------------------------------------------------------


def _batches(conn) -> int:
    return conn.execute("select count(*) from raw.ingest_batches").fetchone()[0]


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_damaged_gzip_is_a_clear_error_and_lands_nothing(conn, tmp_path, damage):
    lines = [change(RECEIPT, event_id=f"W{i}") for i in range(2000)]
    packed = gzip.compress("".join(json.dumps(r) + "\n" for r in lines).encode())
    if damage == "truncated":
        packed = packed[: len(packed) // 2]
    else:  # flip bytes in the middle of the deflate stream
        middle = len(packed) // 2
        packed = (
            packed[:middle]
            + bytes(b ^ 0xFF for b in packed[middle : middle + 64])
            + (packed[middle + 64 :])
        )
    path = tmp_path / "w.jsonl.gz"
    path.write_bytes(packed)

    done = run_cli("ingest", "wms", str(path))

    stderr = done.stderr.decode()
    assert done.returncode not in (0, None)
    assert str(path) in stderr
    assert "compressed file" in stderr
    assert stderr.strip() != "Aborted."
    assert landed_ids(conn) == []
    assert _batches(conn) == 0


def test_damaged_gzip_in_a_reference_load_lands_nothing(conn, tmp_path):
    path = tmp_path / "skus.csv.gz"
    text = "sku_id,description,base_uom\n" + "".join(f"S{i},x,EA\n" for i in range(5000))
    packed = gzip.compress(text.encode())
    path.write_bytes(packed[: len(packed) // 2])

    done = run_cli("load", "skus", str(path))

    assert done.returncode not in (0, None)
    assert str(path) in done.stderr.decode()
    assert conn.execute("select count(*) from raw.skus").fetchone()[0] == 0


def test_unknown_format_is_refused(conn, tmp_path):
    path = write_lines(tmp_path / "w.jsonl", [RECEIPT])

    done = run_cli("ingest", "wms", str(path), "--format", "xml")

    assert done.returncode == 2
    assert "unknown format 'xml'" in done.stderr.decode()
    assert _batches(conn) == 0


def test_known_formats_are_still_accepted(conn, tmp_path):
    path = tmp_path / "events.txt"
    path.write_text(json.dumps(RECEIPT) + "\n")

    done = run_cli("ingest", "wms", str(path), "--format", "jsonl", "--json")

    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["received"] == 1


# --- reference data -------------------------------------------------------------------------

PARAMS_HEADER = (
    "sku_id,location_id,lead_time_days,lead_time_std_days,service_level,reorder_point,"
    "safety_stock,order_qty,order_multiple,min_order_qty,review_period_days,max_days_of_cover\n"
)
PARAMS_COLUMNS = PARAMS_HEADER.strip().split(",")


def params_row(sku: str, **cells) -> str:
    return ",".join(str(cells.get(c, sku if c == "sku_id" else "")) for c in PARAMS_COLUMNS) + "\n"


def load_cli(conn, kind: str, path: Path) -> dict:
    """`inventory load` in this process: some twenty cases, each a second import of the CLI in a
    child process, where the boundary proves nothing about the bounds."""
    done = invoke_cli("load", kind, str(path), "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("cells", "bound"),
    [
        ({"lead_time_days": 0}, "lead_time_days must be positive and below 10^6"),
        ({"lead_time_days": 1_000_000}, "lead_time_days must be positive and below 10^6"),
        ({"lead_time_std_days": 1e6}, "lead_time_std_days must be below 10^6"),
        ({"review_period_days": 0}, "review_period_days must be positive and below 10^6"),
        ({"review_period_days": "1e6"}, "review_period_days must be positive and below 10^6"),
        ({"max_days_of_cover": 10**6}, "max_days_of_cover must be positive and below 10^6"),
        ({"reorder_point": 10**12}, "reorder_point must be below 10^12 in absolute value"),
        ({"safety_stock": "1e309"}, "safety_stock must be below 10^12 in absolute value"),
        ({"order_qty": "1" * 30}, "order_qty must be below 10^12 in absolute value"),
        ({"order_multiple": 10**12}, "order_multiple must be below 10^12 in absolute value"),
        ({"min_order_qty": "1e200000"}, "min_order_qty must be below 10^12 in absolute value"),
        ({"location_id": "L" * 201}, "location_id must be at most 200 characters"),
    ],
)
def test_load_sku_params_checks_the_bounds(conn, tmp_path, cells, bound):
    path = tmp_path / "params.csv"
    path.write_text(PARAMS_HEADER + params_row("S1") + params_row("S2", **cells) + params_row("S3"))

    counts = load_cli(conn, "sku-params", path)

    assert counts == {"received": 3, "accepted": 2, "duplicates": 0, "quarantined": 1}
    [(line_no, reason, _)] = refused(conn)
    assert line_no == 3
    assert bound in reason


def test_load_sku_params_within_the_bounds(conn, tmp_path):
    path = tmp_path / "params.csv"
    cells = {
        "lead_time_days": "999999.99",
        "lead_time_std_days": 0,
        "review_period_days": "0.5",
        "reorder_point": "999999999999",
        "order_multiple": 24,
    }
    path.write_text(PARAMS_HEADER + params_row("S1", **cells))

    assert load_cli(conn, "sku-params", path)["accepted"] == 1


@pytest.mark.parametrize(
    ("row", "bound"),
    [
        ("S2,CS,0", "factor_to_base must be positive and below 10^6"),
        ("S2,CS,-3", "factor_to_base must be positive and below 10^6"),
        ("S2,CS,1000000", "factor_to_base must be positive and below 10^6"),
        ("S2,CS,1e200000", "factor_to_base must be positive and below 10^6"),
        ("S2," + "U" * 201 + ",12", "uom must be at most 200 characters"),
    ],
)
def test_load_uom_checks_the_bounds(conn, tmp_path, row, bound):
    path = tmp_path / "uom.csv"
    path.write_text(f"sku_id,uom,factor_to_base\nS1,CS,12\n{row}\nS3,BAG,999999.5\n")

    counts = load_cli(conn, "uom", path)

    assert counts == {"received": 3, "accepted": 2, "duplicates": 0, "quarantined": 1}
    [(_, reason, _)] = refused(conn)
    assert bound in reason


@pytest.mark.parametrize(
    ("row", "bound"),
    [
        ("S" * 5000 + ",Bolt,EA,A", "sku_id must be at most 200 characters"),
        ("S2,Bolt," + "E" * 201 + ",A", "base_uom must be at most 200 characters"),
    ],
)
def test_load_skus_checks_the_bounds(conn, tmp_path, row, bound):
    path = tmp_path / "skus.csv"
    path.write_text(f"sku_id,description,base_uom,abc_class\nS1,Nut,EA,A\n{row}\nS3,Pin,EA,B\n")

    counts = load_cli(conn, "skus", path)

    assert counts == {"received": 3, "accepted": 2, "duplicates": 0, "quarantined": 1}
    [(_, reason, _)] = refused(conn)
    assert bound in reason


@pytest.mark.parametrize(
    ("row", "bound"),
    [
        ("C2,S1,WH1,1e12,2026-11-02T08:00:00Z,kim", "counted_qty must be below 10^12"),
        ("C2,S1,WH1,5,1969-07-20T20:17:00Z,kim", "counted_at must be in the years 1970 to 2200"),
        ("C2,S1,WH1,5,2026-11-02T08:00:00Z," + "k" * 201, "counted_by must be at most 200"),
    ],
)
def test_load_counts_checks_the_bounds(conn, tmp_path, row, bound):
    path = tmp_path / "counts.csv"
    header = "count_id,sku_id,location_id,counted_qty,counted_at,counted_by\n"
    good = "C{},S1,WH1,5,2026-11-02T08:00:00Z,kim\n"
    path.write_text(header + good.format(1) + row + "\n" + good.format(3))

    counts = load_cli(conn, "counts", path)

    assert counts == {"received": 3, "accepted": 2, "duplicates": 0, "quarantined": 1}
    [(_, reason, _)] = refused(conn)
    assert bound in reason


# --- the identity received = accepted + duplicates + quarantined ----------------------------


def test_received_is_counted_from_the_input_not_from_the_outcomes(conn, tmp_path, monkeypatch):
    """Were a judged record lost on the way, the batch must fail rather than balance its books."""
    load_reference(conn, tmp_path)
    lose_one = statements.create_judged

    def judged_losing_a_line(source):
        return lose_one(source).replace(
            "where t.reason is null", "where t.reason is null and t.line_no <> 2", 1
        )

    monkeypatch.setattr(statements, "create_judged", judged_losing_a_line)
    path = write_lines(tmp_path / "w.jsonl", [change(RECEIPT, event_id=f"W{i}") for i in range(3)])

    with pytest.raises(psycopg.errors.CheckViolation):
        ingest(conn, "wms", path)
    conn.rollback()
    assert landed_ids(conn) == []


def test_replay_keeps_an_unreadable_record_and_accepts_a_fixed_one(conn, tmp_path):
    """Replay judges the stored raw text again: a JSON line (stored once, without a separate
    payload) is parsed again; a record that could not be read keeps its reason."""
    path = tmp_path / "w.csv"
    path.write_text(WMS_HEADER + csv_row("W1", "WH\x001") + csv_row("W2").replace(",,", ",PAL,"))
    ingest(conn, "wms", path)
    ingest(conn, "wms", write_lines(tmp_path / "w.jsonl", [change(RECEIPT, uom="PAL")]))
    load_reference(conn, tmp_path)
    (tmp_path / "pal.csv").write_text("sku_id,uom,factor_to_base\nS1,PAL,480\n")
    ingest(conn, "uom", tmp_path / "pal.csv")

    replayed = replay_quarantine(conn, SOURCES["wms"])

    assert (replayed.received, replayed.accepted, replayed.quarantined) == (3, 2, 1)
    [(line_no, reason, _)] = refused(conn)
    assert (line_no, "NUL" in reason) == (2, True)
    assert landed_ids(conn) == ["W1", "W2"]


def test_nul_byte_in_a_json_line_refuses_only_its_record(conn, tmp_path):
    load_reference(conn, tmp_path)
    line = json.dumps(change(RECEIPT, event_id="BAD")).replace('"WH1"', '"WH\x001"')

    reason, raw = sandwich(conn, tmp_path, line)

    assert reason.startswith("malformed JSON")
    assert raw == line.replace("\x00", "\\x00")


SPICES = [
    b"\x00",
    b"\xff",
    b"\r",
    b"\t",
    b"\\",
    b"\\u0000",
    b"\xef\xbb\xbf",
    b"1e999999",
    b"[" * 30,
]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    parts=st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from(SPICES),
            st.sampled_from([b'{"event_id":', b'"qty_delta":', b"}", b",", b'"x"', b"-1e12"]),
        ),
        max_size=12,
    )
)
def test_no_line_of_bytes_refuses_the_batch(conn, tmp_path, parts):
    """Whatever one line holds, the lines around it land and the books balance."""
    conn.execute("truncate raw.wms_events, raw.quarantine")
    line = b"".join(parts).replace(b"\n", b"")
    good = [json.dumps(change(RECEIPT, event_id=f"GOOD{i}")).encode() for i in (1, 2)]
    path = tmp_path / "w.jsonl"
    path.write_bytes(good[0] + b"\n" + line + b"\n" + good[1] + b"\n")

    result = ingest(conn, "wms", path)

    assert result.received == 2 + (line.strip(b" \t\r\x0b\x0c") != b"")
    assert result.accepted + result.duplicates + result.quarantined == result.received
    assert {"GOOD1", "GOOD2"} <= set(landed_ids(conn))
