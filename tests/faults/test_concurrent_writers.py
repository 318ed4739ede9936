"""One writer of the incrementally kept state at a time, whoever starts it: a second waits and
says for whom, or fails with who holds it; an --as-of is honoured, never replaced."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dagster_project.core.db.locks import refresh_lease
from dagster_project.core.inventory.refresh import refresh
from tests.conftest import invoke_cli
from tests.faults.plant import (
    Plant,
    assert_equals_full_rebuild,
    kill,
    simulate,
    start_refresh,
    wait_for,
)
from tests.faults.writers import start_plain_dbt

pytestmark = pytest.mark.slow(260)  # seconds in a full run: the longest files start first

T = datetime(2026, 11, 6, tzinfo=UTC)
# the instant the last two tests leave the state at, two hours after the plant's first refresh
LATER = T + timedelta(hours=2)
# the vars of the plain dbt that gives up at once and of the one killed: a short wait and a short
# lease (each test needs one of them, the other does nothing there), so that the second dbt reuses
# the first one's parse from the same target folder (other vars: a parse of the whole project)
SHORT_LEASE = '{"refresh_lease_wait_seconds": 1, "refresh_lease_ttl_minutes": 0.25}'


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Path:
    return simulate(tmp_path_factory.mktemp("simulated"), days=3)


@pytest.fixture(scope="module")
def short_lease_scratch(tmp_path_factory) -> Path:
    """dbt's target and log folders for the plain dbt runs with SHORT_LEASE."""
    return tmp_path_factory.mktemp("short-lease-dbt")


@pytest.fixture
def plant(conn, settings, tmp_path, simulated) -> Plant:
    """A plant with a first slice of events refreshed, and the next slice waiting in the landing."""
    plant = Plant(tmp_path / "plant", chunks=4, simulated=simulated)
    plant.load_reference(conn)
    plant.feed(conn)
    refresh(settings, as_of=T)
    plant.feed(conn)
    return plant


def refresh_log(conn, since: datetime) -> list[datetime]:
    return [
        r[0]
        for r in conn.execute(
            "select as_of from intermediate.refresh_log where finished_at > %s"
            " order by finished_at",
            [since],
        )
    ]


def test_two_refreshes_at_once(conn, settings, plant):
    # each given an instant: each runs at its own, one after the other
    started = conn.execute("select clock_timestamp()").fetchone()[0]
    first, second = T + timedelta(hours=5), T + timedelta(hours=9)
    processes = [
        start_refresh("--as-of", first.isoformat()),
        start_refresh("--as-of", second.isoformat()),
    ]
    outputs = [p.communicate(timeout=300) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], [e.decode()[-2000:] for _, e in outputs]
    # one of them waited, and said for whom
    assert any(b"waiting: the refresh is held by inventory refresh" in e for _, e in outputs)
    ran = refresh_log(conn, started)
    assert sorted(ran) == [first, second]
    assert_equals_full_rebuild(settings, ran[-1])

    # as of now, with new events between: the state still equals a rebuild at the last instant
    plant.feed(conn)
    started = conn.execute("select clock_timestamp()").fetchone()[0]
    processes = [start_refresh(), start_refresh()]
    outputs = [p.communicate(timeout=300) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], [e.decode()[-2000:] for _, e in outputs]
    ran = refresh_log(conn, started)
    assert len(ran) == 2 and ran[0] <= ran[1]
    assert_equals_full_rebuild(settings, ran[-1])


def lease_is_waited_for(conn) -> bool:
    """A plain dbt's start hook is in ops.take_refresh_lease, waiting for the holder."""
    return conn.execute(
        "select exists (select from pg_stat_activity where state = 'active'"
        " and query like '%ops.take_refresh_lease(%' and pid <> pg_backend_pid())"
    ).fetchone()[0]


def test_a_second_writer_waits_for_the_holder_or_names_it(
    conn, settings, plant, tmp_path, short_lease_scratch
):
    with refresh_lease(settings, "a planner's backfill") as taken:
        assert taken
        # the three writers start together (each dbt parses the project for seconds): each
        # finds the lease held whenever it gets to it
        refusing = start_refresh("--no-wait")
        gave_up = start_plain_dbt(settings, short_lease_scratch, "run", "--vars", SHORT_LEASE)
        waiting = start_plain_dbt(
            settings, tmp_path, "run", "--vars", f'{{"as_of": "{LATER.isoformat()}"}}'
        )
        _, refused = refusing.communicate(timeout=300)
        gave_up_output, _ = gave_up.communicate(timeout=300)
        # gave_up is done: a dbt waiting in the lease's hook now is the waiting one
        assert wait_for(lambda: waiting.poll() is not None or lease_is_waited_for(conn), 300)
        assert waiting.poll() is None, waiting.stdout.read()  # still waiting for the lease

    assert refusing.returncode == 2
    message = refused.decode()
    assert "the refresh is held by a planner's backfill" in message, message
    assert "not waiting (--no-wait)" in message
    assert gave_up.returncode != 0
    assert "the incremental state is being refreshed by a planner's backfill" in gave_up_output
    # and no model wrote: each checks the lease first
    assert "OK created" not in gave_up_output, gave_up_output[-3000:]
    assert "does not hold the refresh lease" in gave_up_output

    output, _ = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, output[-3000:]
    assert_equals_full_rebuild(settings, LATER)


def lease_is_live(conn) -> bool:
    return conn.execute(
        "select coalesce(bool_or(ops.refresh_lease_is_live(holder_pid, expires_at, taken_at)),"
        " false) from ops.refresh_lease"
    ).fetchone()[0]


def test_a_killed_plain_dbt_frees_the_state_after_its_lease_runs_out(
    conn, settings, plant, short_lease_scratch
):
    dbt = start_plain_dbt(settings, short_lease_scratch, "run", "--vars", SHORT_LEASE)
    deadline = time.monotonic() + 120
    while conn.execute("select count(*) from ops.refresh_lease").fetchone()[0] == 0:
        assert time.monotonic() < deadline and dbt.poll() is None
        time.sleep(0.05)
    kill(dbt)

    # in this process, at once: a new process's start-up could outlast the lease on a busy machine
    refused = invoke_cli("refresh", "--no-wait")
    assert refused.exit_code == 2 and "plain dbt run" in refused.stderr, refused.output
    # the lease runs 15 s past the last model that renewed it; nothing else frees it
    assert wait_for(lambda: not lease_is_live(conn), timeout=120, every=0.1)
    # in this process: the lease is the question here, not the command (refused above)
    refresh(settings, as_of=LATER, wait=False)
    assert_equals_full_rebuild(settings, LATER)
