"""The `inventory` command as a user types it."""

from __future__ import annotations

import json

from tests.conftest import run_cli
from tests.ingest.test_validation import RECEIPT, change

EVENTS = "\n".join(
    json.dumps(r)
    for r in [
        RECEIPT,
        change(RECEIPT, event_id="W2", uom="PAL"),
        RECEIPT,
        change(RECEIPT, event_id="W3", qty_delta=-1),
    ]
).encode()


def test_ingest_json_from_stdin_has_exactly_the_four_counts(conn):
    done = run_cli("ingest", "wms", "-", "--json", input=EVENTS)

    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout) == {
        "received": 4,
        "accepted": 1,
        "duplicates": 1,
        "quarantined": 2,
    }


def test_ingest_prints_counts_per_file_and_a_total(conn, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(EVENTS)
    b.write_text(json.dumps(change(RECEIPT, event_id="W9")) + "\n")

    done = run_cli("ingest", "wms", str(a), str(b))

    text = done.stdout.decode()
    assert done.returncode == 0
    assert "a.jsonl: received 4 · accepted 1 · duplicates 1 · quarantined 2" in text
    assert "b.jsonl: received 1 · accepted 1 · duplicates 0 · quarantined 0" in text
    assert "total: received 5 · accepted 2 · duplicates 1 · quarantined 2" in text
    assert "inventory quarantine list --source wms" in done.stderr.decode()


def test_quarantine_list_and_replay(conn, tmp_path):
    run_cli("ingest", "wms", "-", input=EVENTS)
    listed = run_cli("quarantine", "list", "--source", "wms", "--json")
    rows = json.loads(listed.stdout)

    assert sorted(r["line_no"] for r in rows) == [2, 4]
    assert all(r["file"] == "<stdin>" for r in rows)

    pal = tmp_path / "pal.csv"
    pal.write_text("sku_id,uom,factor_to_base\nS1,PAL,480\n")
    assert run_cli("load", "uom", str(pal)).returncode == 0
    replayed = run_cli("quarantine", "replay", "--json")

    assert json.loads(replayed.stdout) == {
        "received": 2,
        "accepted": 1,
        "duplicates": 0,
        "quarantined": 1,
    }


def test_clear_errors_for_wrong_use(conn, tmp_path):
    unknown = run_cli("ingest", "shipments", "x.jsonl")
    missing = run_cli("ingest", "wms", str(tmp_path / "nope.jsonl"))
    no_format = run_cli("ingest", "wms", str(tmp_path / "events.txt"))

    assert unknown.returncode == 2
    assert "unknown source 'shipments'" in unknown.stderr.decode()
    assert missing.returncode == 2
    assert "no such file" in missing.stderr.decode()
    assert no_format.returncode == 2
    assert "cannot tell the format" in no_format.stderr.decode()
