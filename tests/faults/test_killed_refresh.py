"""A refresh killed at any point, or a server that crashes under it, costs nothing: after new
events and one successful refresh, every mart and state table equals a full rebuild."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from dagster_project.core.db.server import EmbeddedServer
from dagster_project.core.inventory.refresh import Refresher, refresh
from tests.faults.plant import (
    ForkedRefreshes,
    Plant,
    assert_equals_full_rebuild,
    kill,
    kill_forked,
    running,
    start_refresh,
    wait_for,
)

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


# Kills after each state model's commit (refreshes forked from a process that parsed once) and
# one at a random moment (`inventory refresh` itself) come in groups: each kill
# after a new slice of events, and after a group, one refresh that succeeds and a full-rebuild
# comparison (a rebuild costs more than a kill). Damage a kill leaves persists through the kills
# after it, which only run the same refresh again, up to that recovery refresh: the one that must
# put things right. About 150 s alone, more beside other test workers on two cores.
KILLS_PER_RECOVERY = 4


@pytest.mark.timeout(1200)
def test_a_refresh_killed_after_any_state_model_or_at_a_random_moment(conn, settings, tmp_path):
    # a first slice, then one per kill and one per recovery, with room for more state models
    plant = Plant(tmp_path / "plant", chunks=28)
    plant.load_reference(conn)
    plant.feed(conn)
    as_of = START + timedelta(days=1, hours=6)
    refresh(settings, as_of=as_of)
    models = state_models(conn)
    assert len(models) >= 10, models
    rng = random.Random(12)
    kills = [("after", m) for m in models] + [("random", None)]
    groups = [kills[i : i + KILLS_PER_RECOVERY] for i in range(0, len(kills), KILLS_PER_RECOVERY)]
    assert 1 + len(kills) + len(groups) <= len(plant.slices)
    refresher = Refresher(settings)  # the successful refreshes: parsed once
    forked = ForkedRefreshes()  # the refreshes killed after a model: a fork each
    number = 0
    for group in groups:
        for kind, model in group:
            # a kill's refresh moves as_of by hours (within a day: turns adds to its sums) or
            # across a day (turns starts afresh)
            plant.feed(conn)
            as_of += timedelta(hours=7 if number % 2 else 19)
            number += 1
            run = run_seq(conn) + 1
            if kind == "after":
                pid = forked.start(as_of)
                assert wait_for(lambda m=model, r=run: marked(conn, m, r)), (model, running(pid))
                kill_forked(pid)
            else:  # the command itself, as a user starts it
                process = start_refresh("--as-of", as_of.isoformat())
                wait_for(lambda r=run: run_seq(conn) >= r)
                wait_for(lambda: False, timeout=rng.uniform(0.0, 1.5))
                kill(process)

        # new events, late ones among them, and one refresh that succeeds
        plant.feed(conn)
        as_of += timedelta(hours=3)
        refresher.refresh(as_of=as_of)
        assert_equals_full_rebuild(settings, as_of, after=f"kills {group}")
    forked.close()


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
