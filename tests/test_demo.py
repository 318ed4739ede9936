"""The README's main job, as a new user runs it."""

from __future__ import annotations

import orjson

from tests.conftest import run_cli


def landed(conn) -> tuple:
    return conn.execute(
        "select (select count(*) from raw.wms_events), (select count(*) from raw.order_lines),"
        " (select count(*) from raw.quarantine), (select count(*) from marts.inventory_health)"
    ).fetchone()


def erp_loop_counts(settings) -> dict:
    return orjson.loads((settings.state_dir / "demo" / "erp_loop" / "loop.json").read_bytes())[
        "counts"
    ]


def test_demo_ingests_a_week_builds_the_marts_closes_the_erp_loop_and_can_run_again(
    conn, settings, reset_erp
):
    """The demo twice, then dbt's data tests on the marts it built: one test, since a demo run
    costs half a minute and the data tests only read what it built."""
    reset_erp()
    first = run_cli("demo", "--orders-per-day", "150")
    assert first.returncode == 0, first.stderr.decode()
    text = first.stdout.decode()
    titles = ("Ingested", "Quarantined, by rule", "Inventory health", "Top reorder alerts")
    for title in (*titles, "ERP loop"):
        assert title in text
    before = landed(conn)
    loop = erp_loop_counts(settings)
    assert_erp_loop(conn, settings, loop, text)

    again = run_cli("demo", "--orders-per-day", "150")

    assert again.returncode == 0, again.stderr.decode()
    assert landed(conn) == before
    assert erp_loop_counts(settings) == loop
    assert "the loop ran before on this week" in again.stdout.decode()
    assert before[0] > 0 and before[3] > 0
    statuses = {s for (s,) in conn.execute("select inventory_status from marts.inventory_health")}
    known = ("stockout", "below_safety_stock", "reorder_now", "overstock", "healthy")
    assert statuses <= set(known)
    # at the week's end, before the ERP loop moves the clock days past the last order
    week = text[text.index("Inventory health") : text.index("Top reorder alerts")]
    assert sum(status in week for status in known) >= 3
    assert_data_tests_pass(conn, settings)


def assert_data_tests_pass(conn, settings) -> None:
    """dbt's data tests (unit tests aside) pass on the demo's marts; testing reads the marts,
    and only a run moves the instant they are as of."""
    from dagster_project.core.inventory.refresh import run_dbt

    clock = conn.execute("select as_of from intermediate.refresh_clock").fetchone()
    results = run_dbt(settings, ["test", "--exclude", "test_type:unit"])

    assert conn.execute("select as_of from intermediate.refresh_clock").fetchone() == clock
    tests = [r for r in results if r.node.resource_type == "test"]
    names = {r.node.name for r in tests}
    assert all(str(r.status) == "pass" for r in tests), [
        (r.node.name, r.message) for r in tests if str(r.status) != "pass"
    ]
    assert any(n.startswith("unique_key_columns_inventory_position") for n in names)
    assert any(n.startswith("accepted_values_inventory_health") for n in names)


def assert_erp_loop(conn, settings, loop: dict, text: str) -> None:
    """The loop ordered for every open request, received every order and closed alerts."""
    from dagster_project.core.erp import connect_erp

    assert loop["pos_placed"] > 0, text[-6000:]

    # one PO per request the planner found open, each received in full and matched by the marts
    placed = conn.execute(
        "select count(*), count(distinct (sku_id, location_id)) from raw.purchase_orders"
        " where po_id like 'PO-ERP%' and status = 'open'"
    ).fetchone()
    assert loop["requests_open"] == loop["pos_placed"] == placed[0] == placed[1] > 0
    assert loop["requests_opened"] == loop["requests_open"]  # a fresh ERP: all opened here
    assert loop["receipts_matched"] == loop["pos_placed"]
    (receipts,) = conn.execute(
        "select count(*) from raw.wms_events as w join raw.purchase_orders as p"
        " on p.po_id = w.reference_id and p.sku_id = w.sku_id and p.location_id = w.location_id"
        " where w.event_type = 'receipt' and p.po_id like 'PO-ERP%' and p.status = 'closed'"
    ).fetchone()
    assert receipts == loop["pos_placed"]
    # ordering took pairs out of the alerts: their requests closed
    assert loop["alerts_closed"] > 0
    with connect_erp(settings) as erp:
        (closed,) = erp.execute(
            "select count(*) from erp.replenishment_requests where status = 'closed'"
        ).fetchone()
    assert closed >= loop["alerts_closed"]
    # the stockouts it prints are the episodes that started in the 30 days to the clock
    (episodes,) = conn.execute(
        "select count(*) from marts.stockout_episodes"
        " where started_at > as_of - interval '30 days' and started_at <= as_of"
    ).fetchone()
    assert loop["stockouts_30d"] == episodes
