"""The README's main job, as a new user runs it."""

from __future__ import annotations

from tests.conftest import run_cli


def landed(conn) -> tuple:
    return conn.execute(
        "select (select count(*) from raw.wms_events), (select count(*) from raw.order_lines),"
        " (select count(*) from raw.quarantine), (select count(*) from marts.inventory_health)"
    ).fetchone()


def test_demo_ingests_a_week_builds_the_marts_and_can_run_again(conn):
    first = run_cli("demo", "--orders-per-day", "150")
    assert first.returncode == 0, first.stderr.decode()
    text = first.stdout.decode()
    for title in ("Ingested", "Quarantined, by rule", "Inventory health", "Top reorder alerts"):
        assert title in text
    before = landed(conn)

    again = run_cli("demo", "--orders-per-day", "150")

    assert again.returncode == 0, again.stderr.decode()
    assert landed(conn) == before
    assert before[0] > 0 and before[3] > 0
    statuses = {s for (s,) in conn.execute("select inventory_status from marts.inventory_health")}
    assert statuses <= {"stockout", "below_safety_stock", "reorder_now", "overstock", "healthy"}
    assert len(statuses) >= 3


def test_data_tests_pass_on_the_demo_marts(conn, settings):
    from dagster_project.core.inventory.refresh import run_dbt

    assert run_cli("demo", "--orders-per-day", "150").returncode == 0
    clock = conn.execute("select as_of from intermediate.refresh_clock").fetchone()
    results = run_dbt(settings, ["test", "--exclude", "test_type:unit"])

    # testing reads the marts; only a run moves the instant they are as of
    assert conn.execute("select as_of from intermediate.refresh_clock").fetchone() == clock
    tests = [r for r in results if r.node.resource_type == "test"]
    names = {r.node.name for r in tests}
    assert all(str(r.status) == "pass" for r in tests), [
        (r.node.name, r.message) for r in tests if str(r.status) != "pass"
    ]
    assert any(n.startswith("unique_key_columns_inventory_position") for n in names)
    assert any(n.startswith("accepted_values_inventory_health") for n in names)
