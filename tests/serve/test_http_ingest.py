"""`inventory serve` over real HTTP: each request one batch with the file ingest's counts, the
refusals (400, 401, 413, 415) landing nothing, concurrent clients each atomic, and an event posted
over HTTP reaching the marts after a refresh."""

from __future__ import annotations

import asyncio
import json

import httpx
import psutil
import pytest

from dagster_project.core.ingest.http import create_app
from dagster_project.core.ingest.sources import EVENT_SOURCES, REFERENCE_SOURCES, WMS
from dagster_project.core.inventory.refresh import refresh
from tests.serve.conftest import BODY_LIMIT, start_serve, stop

JSON = "application/json"
NDJSON = "application/x-ndjson"


def receipt(event_id: str, qty: float = 5, **changes) -> dict:
    record = {
        "event_id": event_id,
        "event_type": "receipt",
        "sku_id": "S1",
        "location_id": "L1",
        "qty_delta": qty,
        "unit_cost": 2.5,
        "event_ts": "2026-11-02T08:00:00Z",
    }
    return {**record, **changes}


def ndjson(*lines: dict | str) -> bytes:
    return "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines).encode()


def landed(conn) -> list[tuple]:
    return conn.execute(
        "select event_id, qty_delta::float from raw.wms_events order by event_id"
    ).fetchall()


def batches(conn) -> int:
    return conn.execute("select count(*) from raw.ingest_batches").fetchone()[0]


def test_a_json_array_is_one_batch_with_the_ingest_counts(conn, served):
    missing_ts = receipt("A5")
    del missing_ts["event_ts"]
    body = [receipt("A1"), receipt("A2", 3), receipt("A3", -4), 42, missing_ts]

    answer = served.post("wms", json.dumps(body, indent=2).encode(), JSON)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": 5, "accepted": 2, "duplicates": 0, "quarantined": 3}
    assert landed(conn) == [("A1", 5.0), ("A2", 3.0)]
    batch = conn.execute(
        "select batch_id, source, file, received, accepted, duplicates, quarantined"
        " from raw.ingest_batches"
    ).fetchall()
    assert len(batch) == 1
    batch_id, source, label, *counts = batch[0]
    assert (source, counts) == ("wms", [5, 2, 0, 3])
    assert answer.headers["X-Batch-Id"] == str(batch_id)
    assert label.startswith("<http 127.0.0.1:")
    quarantined = conn.execute(
        "select line_no, reason, raw_text from raw.quarantine order by line_no"
    ).fetchall()
    # array elements are numbered as lines, from 1
    assert [(n, reason) for n, reason, _ in quarantined] == [
        (3, "qty_delta must be > 0 for receipt, got -4"),
        (4, "not a JSON object"),
        (5, "missing event_ts"),
    ]
    # an element's raw text is its text as sent, its line breaks (between tokens) as spaces
    assert json.loads(quarantined[0][2]) == receipt("A3", -4)
    assert "\n" not in quarantined[0][2]


def test_ndjson_is_taken_as_a_file_of_json_lines(conn, served):
    assert served.post("wms", ndjson(receipt("B1")), NDJSON).json()["accepted"] == 1
    # B1 again with other key order and number spelling: a duplicate; B1 with another quantity:
    # a conflict; a blank line is not a record; a broken line is quarantined alone
    resend = '{"qty_delta": 5.0, "event_id": "B1", "event_type": "receipt", "sku_id": "S1",'
    resend += ' "location_id": "L1", "unit_cost": 2.50, "event_ts": "2026-11-02T09:00:00+01:00"}'
    body = ndjson(resend, receipt("B2", 7), "   ", receipt("B1", 6), '{"event_id": "B9",')

    answer = served.post("wms", body, NDJSON + "; charset=utf-8")

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": 4, "accepted": 1, "duplicates": 1, "quarantined": 2}
    assert landed(conn) == [("B1", 5.0), ("B2", 7.0)]
    reasons = conn.execute("select line_no, reason from raw.quarantine order by line_no").fetchall()
    assert reasons[0] == (4, "event_id='B1' was already stored with other content")
    assert reasons[1][0] == 5 and reasons[1][1].startswith("malformed JSON")


def test_every_event_source_and_reference_source_is_served(conn, served):
    spec = httpx.get(f"{served.url}/openapi.json").json()
    expected = {f"/v1/events/{name}" for name in EVENT_SOURCES} | {
        f"/v1/reference/{name}" for name in REFERENCE_SOURCES
    }
    assert set(spec["paths"]) == expected
    for path in expected:
        operation = spec["paths"][path]["post"]
        assert set(operation["requestBody"]["content"]) == {JSON, NDJSON}
        assert set(operation["responses"]) >= {"200", "400", "401", "413", "415"}
    wms_body = spec["paths"]["/v1/events/wms"]["post"]["requestBody"]["content"][JSON]["schema"]
    assert wms_body["items"]["required"] == [
        "event_id", "event_type", "sku_id", "location_id", "qty_delta", "event_ts"
    ]  # fmt: skip
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"

    skus = httpx.post(
        f"{served.url}/v1/reference/skus",
        json=[{"sku_id": "S1", "base_uom": "EA", "abc_class": "A"}, {"sku_id": "S2"}],
        headers={"Authorization": f"Bearer {served.token}"},
    )
    assert skus.json() == {"received": 2, "accepted": 1, "duplicates": 0, "quarantined": 1}
    assert conn.execute("select sku_id, base_uom from raw.skus").fetchall() == [("S1", "EA")]


def test_it_listens_on_loopback_only_and_works_as_the_ingest_role(conn, served):
    listening = {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.Process(served.pid).net_connections("tcp")
        if c.status == psutil.CONN_LISTEN
    }
    assert listening == {("127.0.0.1", int(served.url.rsplit(":", 1)[1]))}
    assert served.post("wms", ndjson(receipt("R1")), NDJSON).status_code == 200
    roles = conn.execute(
        "select distinct usename from pg_stat_activity where application_name = 'inventory serve'"
    ).fetchall()
    assert roles == [("inventory_ingest",)]


def test_a_source_added_to_the_registry_gets_its_route(monkeypatch, settings):
    """The routes are the registry's: another engineer's new source needs no change here."""
    monkeypatch.setitem(EVENT_SOURCES, "scanner", WMS)
    paths = create_app(settings).openapi()["paths"]
    assert "/v1/events/scanner" in paths


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"event_id": "C1"}', "not a JSON array"),
        (b"[{}, ", "not valid JSON"),
        (b'[{"event_id": "C1"}] [', "data after the array"),
        (b"", "not a JSON array"),
        (b'["\xff"]', "not valid UTF-8"),
    ],
)
def test_a_json_body_that_is_not_one_array_is_refused_whole(conn, served, body, reason):
    answer = served.post("wms", body, JSON)
    assert answer.status_code == 400
    assert reason in answer.json()["detail"]
    assert batches(conn) == 0


@pytest.mark.parametrize("content_type", ["text/csv", "", "application/json; charset=latin-1"])
def test_another_content_type_is_refused(conn, served, content_type):
    answer = served.post("wms", ndjson(receipt("D1")), content_type)
    assert answer.status_code == 415
    assert "detail" in answer.json()
    assert batches(conn) == 0


def test_a_body_past_the_limit_is_refused_and_one_at_the_limit_is_taken(conn, served):
    record = ndjson(receipt("E1"))
    # blank lines are not records: pad the one record to exactly the limit
    at_limit = record + b"\n" * (BODY_LIMIT - len(record))
    assert served.post("wms", at_limit, NDJSON).json()["accepted"] == 1

    assert served.post("wms", at_limit + b"\n", NDJSON).status_code == 413

    def chunked():  # no Content-Length: the limit holds on what is read
        yield record
        for _ in range(BODY_LIMIT // 65536 + 1):
            yield b"\n" * 65536

    answer = httpx.post(
        f"{served.url}/v1/events/wms",
        content=chunked(),
        headers={"Content-Type": NDJSON, "Authorization": f"Bearer {served.token}"},
    )
    assert answer.status_code == 413
    assert batches(conn) == 1


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer"]
)
def test_no_token_or_a_wrong_one_is_refused(conn, served, authorization):
    headers = {"Content-Type": NDJSON}
    if authorization is not None:
        headers["Authorization"] = authorization
    answer = httpx.post(
        f"{served.url}/v1/events/wms", content=ndjson(receipt("F1")), headers=headers
    )
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert batches(conn) == 0


def test_the_token_file_is_private(served, settings):
    assert settings.serve_token_file.stat().st_mode & 0o777 == 0o600
    assert len(served.token) >= 32


def test_a_token_from_the_environment_replaces_the_file(conn, served, settings, tmp_path):
    token = "an-operator-chosen-token-0123456789"
    process, url = start_serve(settings, tmp_path / "serve.log", {"INVENTORY_SERVE_TOKEN": token})
    try:
        body = ndjson(receipt("G1"))
        headers = {"Content-Type": NDJSON}
        with_file = httpx.post(
            f"{url}/v1/events/wms",
            content=body,
            headers={**headers, "Authorization": f"Bearer {served.token}"},
        )
        assert with_file.status_code == 401
        with_env = httpx.post(
            f"{url}/v1/events/wms",
            content=body,
            headers={**headers, "Authorization": f"Bearer {token}"},
        )
        assert with_env.json() == {"received": 1, "accepted": 1, "duplicates": 0, "quarantined": 0}
    finally:
        assert stop(process) == 0


def test_concurrent_clients_each_get_one_atomic_batch_with_exact_counts(conn, served):
    """Eight clients at once, each with 100 events of its own, the same 20 shared events and 5
    bad ones. The batches land one at a time: the first to land accepts the shared 20, every
    other one counts them as duplicates."""
    clients, own, shared, bad = 8, 100, 20, 5
    shared_events = [receipt(f"SH-{i:02d}", 1 + i) for i in range(shared)]

    def body(client: int) -> bytes:
        mine = [receipt(f"C{client}-{i:03d}", 1 + i % 9) for i in range(own)]
        broken = [receipt(f"C{client}-BAD-{i}", 0) for i in range(bad)]  # qty_delta zero
        return json.dumps(mine + shared_events + broken).encode()

    async def post_all() -> list[httpx.Response]:
        headers = {"Content-Type": JSON, "Authorization": f"Bearer {served.token}"}
        async with httpx.AsyncClient(base_url=served.url, timeout=120) as client:
            return await asyncio.gather(
                *(client.post("/v1/events/wms", content=body(c), headers=headers) for c in range(8))
            )

    answers = asyncio.run(post_all())

    assert [a.status_code for a in answers] == [200] * clients
    counts = sorted((a.json() for a in answers), key=lambda c: c["accepted"])
    others = {"received": 125, "accepted": 100, "duplicates": 20, "quarantined": 5}
    first = {"received": 125, "accepted": 120, "duplicates": 0, "quarantined": 5}
    assert counts == [others] * (clients - 1) + [first]
    # each batch's events are one unbroken run of ingest_seq: no batch interleaved another
    runs = conn.execute(
        """
        select b.batch_id, b.accepted, count(e.*), min(e.ingest_seq), max(e.ingest_seq),
            b.first_seq, b.last_seq
        from raw.ingest_batches as b join raw.wms_events as e using (batch_id)
        group by b.batch_id order by b.batch_id
        """
    ).fetchall()
    assert len(runs) == clients
    for _, accepted, rows, low, high, first_seq, last_seq in runs:
        assert accepted == rows == high - low + 1
        assert (low, high) == (first_seq, last_seq)
    shared_batches = conn.execute(
        "select count(distinct batch_id) from raw.wms_events where event_id like 'SH-%'"
    ).fetchone()[0]
    assert shared_batches == 1
    assert conn.execute("select count(*) from raw.wms_events").fetchone()[0] == 820
    assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 40


@pytest.mark.slow
def test_an_event_posted_over_http_reaches_inventory_position(conn, served, settings):
    events = [
        receipt("H1", 10, location_id="L9"),
        receipt("H2", -4, event_type="issue", location_id="L9", unit_cost=None),
    ]
    # unit_cost: null is an absent optional field
    answer = served.post("wms", json.dumps(events).encode(), JSON)
    assert answer.json() == {"received": 2, "accepted": 2, "duplicates": 0, "quarantined": 0}

    refresh(settings)

    assert conn.execute(
        "select on_hand_qty::float, receipt_count, issue_count from marts.inventory_position"
        " where sku_id = 'S1' and location_id = 'L9'"
    ).fetchall() == [(6.0, 1, 1)]
