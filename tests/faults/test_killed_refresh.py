"""A refresh killed at any point, or a server that crashes under it, costs nothing: after new
events and one successful refresh, every mart and state table equals a full rebuild."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from dagster_project.core.db.server import EmbeddedServer
from dagster_project.core.inventory.refresh import Refresher, refresh
from tests.faults.plant import Plant, assert_equals_full_rebuild, kill, start_refresh, wait_for

pytestmark = pytest.mark.slow

START = datetime(2026, 11, 2, tzinfo=UTC)


def state_models(conn) -> list[str]:
    """The incrementally kept models, as the first refresh recorded them."""
    return [r[0] for r in conn.execute("select model from intermediate.state_marks order by 1")]


def run_seq(conn) -> int:
    return conn.execute("select run_seq from intermediate.refresh_clock").fetchone()[0]


def marked(conn, model: str, run: int) -> bool:
    row = conn.execute(
        "select run_seq from intermediate.state_marks where model = %s", [model]
    ).fetchone()
    return row is not None and row[0] >= run


# a kill per state model and one at random (seventeen), each followed by a full-rebuild
# comparison: about 250 s alone, more beside another test worker on two cores
@pytest.mark.timeout(1200)
def test_a_refresh_killed_after_any_state_model_or_at_a_random_moment(conn, settings, tmp_path):
    # a first slice, then two per trial, with room for a few more state models
    plant = Plant(tmp_path / "plant", chunks=37)
    plant.load_reference(conn)
    plant.feed(conn)
    as_of = START + timedelta(days=1, hours=6)
    refresh(settings, as_of=as_of)
    models = state_models(conn)
    assert len(models) >= 10, models
    rng = random.Random(12)
    # each model's commit, then two moments chosen at random; a trial's refresh moves as_of
    # by hours (within a day: turns adds to its sums) or across a day (turns starts afresh)
    trials = [("after", m) for m in models] + [("random", None)]
    assert 1 + 2 * len(trials) <= len(plant.slices)
    refresher = Refresher(settings)  # the successful refreshes: parsed once
    for number, (kind, model) in enumerate(trials):
        plant.feed(conn)
        killed_as_of = as_of + timedelta(hours=7 if number % 2 else 19)
        run = run_seq(conn) + 1
        process = start_refresh("--as-of", killed_as_of.isoformat())
        if kind == "after":
            assert wait_for(lambda m=model, r=run: marked(conn, m, r)), (model, process.poll())
        else:
            wait_for(lambda r=run: run_seq(conn) >= r)
            wait_for(lambda: False, timeout=rng.uniform(0.0, 1.5))
        kill(process)

        # new events, late ones among them, and one refresh that succeeds
        plant.feed(conn)
        as_of = killed_as_of + timedelta(hours=3)
        refresher.refresh(as_of=as_of)
        assert_equals_full_rebuild(settings, as_of)


def test_a_server_crash_during_a_refresh(conn, settings, tmp_path):
    plant = Plant(tmp_path / "plant", chunks=4)
    plant.load_reference(conn)
    plant.feed(conn)
    as_of = START + timedelta(days=3)
    refresh(settings, as_of=as_of)
    plant.feed(conn)
    run = run_seq(conn) + 1
    process = start_refresh("--as-of", (as_of + timedelta(hours=5)).isoformat())
    # the state tables commit without waiting for the disk: crash after some of them did
    assert wait_for(lambda: marked(conn, "int_position_totals", run)), process.poll()
    server = EmbeddedServer(settings)
    server._pg_ctl("-w", "-t", "60", "-m", "immediate", "stop")
    try:
        assert process.wait(timeout=120) != 0
    finally:
        process.communicate()
        server.start()

    from dagster_project.core.db import connect

    with connect(settings) as again:
        plant.feed(again)
    as_of += timedelta(hours=9)
    refresh(settings, as_of=as_of)
    assert_equals_full_rebuild(settings, as_of)
