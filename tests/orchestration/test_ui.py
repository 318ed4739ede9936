"""`inventory ui` serves Dagster on 127.0.0.1 only, with its home in the state folder, and a
SIGTERM to it stops what it started. That its daemon brings up the stream worker, and that the
stop takes the worker down too, is tests/faults/test_demo_shutdown.py's (the demo runs this UI)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ASSETS_QUERY = '{"query": "{ assetNodes { assetKey { path } } }"}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port` (state 0A in /proc/net/tcp)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if int(hex_port, 16) == port and state == "0A":
                found.add(address)
    return found


@pytest.mark.slow
def test_ui_serves_the_assets_on_loopback_and_stops_on_sigterm(conn, settings, reset_erp):
    reset_erp()
    port = free_port()
    # no worker: its start and stop are the demo's test (test_demo_shutdown.py)
    env = {**os.environ, "INVENTORY_STREAM_AUTOSTART": "0"}
    ui = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli", "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 180
        body = None
        while body is None:
            assert ui.poll() is None, ui.stderr.read().decode()
            assert time.monotonic() < deadline, "the webserver never answered"
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql",
                    data=ASSETS_QUERY.encode(),
                    headers={"Content-Type": "application/json"},
                )
                body = json.load(urllib.request.urlopen(request, timeout=5))
            except OSError:
                time.sleep(1)
        paths = {"/".join(n["assetKey"]["path"]) for n in body["data"]["assetNodes"]}
        assert {"marts/reorder_alerts", "landing/wms_events", "erp/replenishment_requests"} <= paths
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
        assert (settings.state_dir / "dagster" / "dagster.yaml").exists()
    finally:
        # as a supervisor stops it: SIGTERM to this process alone, which stops what it started
        ui.send_signal(signal.SIGTERM)
        ui.wait(timeout=60)
    assert ui.returncode == 0, ui.stderr.read().decode()[-3000:]


def test_a_run_the_last_stop_cut_short_is_marked_failed_at_the_next_start(tmp_path):
    """Left STARTED it would hold a slot of the run queue for good."""
    import dagster as dg
    from dagster._core.test_utils import create_run_for_test

    from dagster_project.cli.ui import dagster_env, fail_runs_cut_short
    from dagster_project.core.settings import Settings

    settings = Settings(home=tmp_path)
    dagster_env(settings)
    status = dg.DagsterRunStatus
    statuses = [status.STARTED, status.STARTING, status.NOT_STARTED, status.SUCCESS]
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        runs = [create_run_for_test(instance, job_name="checks", status=s) for s in statuses]

    assert fail_runs_cut_short(settings) == 2

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        after = [instance.get_run_by_id(r.run_id).status for r in runs]
    # a run not launched yet is the queue's to start; a finished one stays as it ended
    assert after == [status.FAILURE, status.FAILURE, status.NOT_STARTED, status.SUCCESS]
