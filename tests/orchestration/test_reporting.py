"""Refreshes made outside Dagster (the stream worker, `inventory refresh`) show in a real Dagster
instance as materializations of every mart; Dagster's freshness daemon judges them by it, and the
marts' checks run after them, once per cron tick."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.freshness import FreshnessDaemon
from typer.testing import CliRunner

from dagster_project.cli import app
from dagster_project.core.inventory import report
from dagster_project.core.inventory.report import RefreshReporter
from dagster_project.core.settings import Settings
from dagster_project.core.stream import StreamWorker, WorkerConfig
from tests.conftest import ROOT
from tests.erp.inventory import ingest_wms, wms
from tests.orchestration.test_definitions import dbt_models

MARTS = sorted(
    dg.AssetKey(["marts", name]) for name, layer in dbt_models().items() if layer == "marts"
)


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def materializations(home: Path) -> dict[dg.AssetKey, list[dict]]:
    """Every mart's materializations in the instance, oldest first, as their metadata."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        found = {}
        for key in MARTS:
            records = instance.fetch_materializations(key, limit=100, ascending=True).records
            found[key] = [
                {k: v.value for k, v in r.asset_materialization.metadata.items()} for r in records
            ]
    return found


def marts_as_of(conn) -> datetime:
    """The instant the marts' time-relative figures are computed as of (health's demand)."""
    (as_of,) = conn.execute("select distinct as_of from marts.inventory_health").fetchone()
    return as_of


@pytest.mark.slow
def test_the_worker_reports_at_most_once_a_period_and_a_check_only_run_tests_its_marts(
    conn, settings, dagster_home
):
    """Then what the automation sensor launches on the marts the worker refreshed: their dbt
    tests (through `dbt test`) and quality suites, with the clock the marts are as of left where
    the refresh put it. One test, since both need marts built from an empty database."""
    ingest_wms(conn, wms("E1", "receipt", 30), wms("E2", "issue", -24))
    # long enough for a second refresh and the reads below on a busy machine
    config = WorkerConfig(refresh_every=0, report_every=20.0, sync_erp=False)
    worker = StreamWorker(settings, config)
    try:
        assert worker.tick().refreshed
        reported_at = time.monotonic()
        worker.reporter.wait()
        first = materializations(dagster_home)
        as_of = marts_as_of(conn)
        # a refresh within the period: not reported; the next report covers it
        ingest_wms(conn, wms("E3", "receipt", 5))
        assert worker.tick().refreshed
        worker.reporter.wait()
        assert materializations(dagster_home) == first
        assert time.monotonic() - reported_at < config.report_every, "too slow to judge"
        time.sleep(config.report_every - (time.monotonic() - reported_at))
        ingest_wms(conn, wms("E4", "receipt", 5))
        assert worker.tick().refreshed
        worker.reporter.wait()
        second = materializations(dagster_home)
    finally:
        worker.close()

    for key in MARTS:
        assert len(first[key]) == 1, key
        assert first[key][0]["ingest_seq"] == 2
        assert first[key][0]["as_of"] == as_of.timestamp()
        assert first[key][0]["refreshed_by"] == "stream worker"
        assert [m["ingest_seq"] for m in second[key]] == [2, 4], key

    assert_a_check_only_run_tests_the_marts_and_leaves_their_state_alone(conn)


def assert_a_check_only_run_tests_the_marts_and_leaves_their_state_alone(conn) -> None:
    from dagster_project.definitions import defs as load

    clock = "select as_of, run_seq from intermediate.refresh_clock"
    before = conn.execute(clock).fetchone()
    defs = load()
    graph = defs.resolve_asset_graph()
    automated = {
        k
        for k in graph.asset_check_keys
        if k.asset_key in MARTS and graph.get(k).automation_condition
    }
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_check_selection=automated)
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance)

    assert result.success
    assert result.get_asset_materialization_events() == []
    evaluations = {e.asset_check_key: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations == dict.fromkeys(automated, True)
    assert conn.execute(clock).fetchone() == before


@pytest.mark.slow
def test_inventory_refresh_reports_and_the_freshness_daemon_judges_by_it(conn, dagster_home):
    ingest_wms(conn, wms("E1", "receipt", 30))
    # the command in this process (DAGSTER_HOME is set by the fixture): a child process would
    # only add its start-up, the report is the command's own code either way
    refreshed = CliRunner().invoke(app, ["refresh"])
    assert refreshed.exit_code == 0, refreshed.output

    reported = materializations(dagster_home)
    assert {key: [m["ingest_seq"] for m in ms] for key, ms in reported.items()} == {
        key: [1] for key in MARTS
    }
    assert {m[0]["refreshed_by"] for m in reported.values()} == {"inventory refresh"}
    assert {m[0]["as_of"] for m in reported.values()} == {marts_as_of(conn).timestamp()}

    # the marts pass their freshness policy now, warn after three minutes, fail after ten
    now = datetime.now(UTC)
    with freshness_daemon(dagster_home) as freshness:
        assert freshness(now) == dict.fromkeys(MARTS, FreshnessState.PASS)
        assert freshness(now + timedelta(minutes=4)) == dict.fromkeys(MARTS, FreshnessState.WARN)
        assert freshness(now + timedelta(minutes=11)) == dict.fromkeys(MARTS, FreshnessState.FAIL)


@contextmanager
def freshness_daemon(
    home: Path,
) -> Iterator[Callable[[datetime], dict[dg.AssetKey, FreshnessState]]]:
    """Dagster's freshness daemon over the project's definitions, loaded once (as the daemon
    keeps its workspace): a function that runs one iteration at an instant and returns the
    marts' states."""
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            module_name="dagster_project.definitions", working_directory=str(ROOT)
        ),
        location_name="realtime-inventory",
    )
    with (
        dg.DagsterInstance.from_config(str(home)) as instance,
        WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as workspace,
    ):
        daemon = FreshnessDaemon()

        def at(instant: datetime) -> dict[dg.AssetKey, FreshnessState]:
            with freeze_time(instant):
                list(daemon.run_iteration(workspace))
                records = instance.get_freshness_state_records(MARTS)
            return {key: records[key].freshness_state for key in MARTS}

        yield at


def test_without_an_instance_nothing_is_reported_and_a_broken_one_fails_no_refresh(
    tmp_path, monkeypatch, caplog
):
    settings = Settings(home=tmp_path / "state")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    RefreshReporter(settings, "test").report(1)
    assert not settings.dagster_home.exists()

    # a DAGSTER_HOME that is a file: the report is logged as failed, nothing is raised
    broken = tmp_path / "not-a-folder"
    broken.write_text("")
    monkeypatch.setenv("DAGSTER_HOME", str(broken))
    with caplog.at_level(logging.WARNING, logger=report.__name__):
        RefreshReporter(settings, "test").report(1)
    assert "could not report the refresh to Dagster" in caplog.text


def requested(result) -> set:
    return {r.key for r in result.results if r.true_subset.size}


def test_the_marts_checks_run_once_per_cron_tick_after_the_marts_were_updated(database):
    from dagster_project.definitions import defs as load

    defs = load()
    graph = defs.resolve_asset_graph()
    automated = {
        k
        for k in graph.asset_check_keys
        if k.asset_key in MARTS and graph.get(k).automation_condition
    }
    now = datetime.now(UTC)
    tick = now.replace(minute=now.minute - now.minute % 10, second=0, microsecond=0)
    with dg.DagsterInstance.ephemeral() as instance:
        before = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, evaluation_time=tick - timedelta(minutes=1)
        )
        assert requested(before) == set()
        # the worker's report after the tick: every automated check on the marts runs
        for key in MARTS:
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
        after = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, evaluation_time=now, cursor=before.cursor
        )
        assert requested(after) == automated
        # more reports within the same tick: not again
        for key in MARTS:
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
        again = dg.evaluate_automation_conditions(
            defs=defs,
            instance=instance,
            evaluation_time=now + timedelta(seconds=30),
            cursor=after.cursor,
        )
        assert requested(again) == set()
