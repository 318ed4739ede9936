"""Stopping the live demo stops everything it started: the Dagster webserver and daemon (and their
code servers), the stream worker the daemon's sensor started in its own session, and the live
feeder. Only the embedded PostgreSQL server outlives it, by design (`inventory db stop`).

A supervisor's SIGTERM to the parent alone goes through the same stop (cli/ui.py's Supervisor):
tests/orchestration/test_ui.py stops `inventory ui` that way, without a second demo's minutes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from dagster_project.core.stream import read_progress

ROOT = Path(__file__).resolve().parents[2]
STOP_WITHIN_SECONDS = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def demo_processes(home: Path) -> dict[int, str]:
    """Live processes (zombies excepted) started for this state folder, by pid: those whose
    environment names it as INVENTORY_HOME or whose command line mentions it, bar PostgreSQL."""
    marker = f"INVENTORY_HOME={home}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        stat = _read(entry / "stat")
        if not stat or stat.rsplit(b")", 1)[1].split()[0] == b"Z":
            continue
        with_home = marker in _read(entry / "environ").split(b"\0")
        cmdline = _read(entry / "cmdline").replace(b"\0", b" ").decode(errors="replace")
        if not (with_home or str(home) in cmdline):
            continue
        try:
            if Path(os.readlink(entry / "exe")).name == "postgres":
                continue  # the embedded server is detached by design
        except OSError:
            continue  # gone, or not ours to read
        found[int(entry.name)] = cmdline.strip()
    return found


def connect_demo(home: Path) -> psycopg.Connection:
    """A connection to the demo's database (not through Settings: that would prepare the state
    folder and set TMPDIR in this process)."""
    server = json.loads((home / "server.json").read_text())
    url = f"postgresql://postgres:{server['password']}@127.0.0.1:{server['port']}/inventory"
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def wait_for_worker(home: Path, demo: subprocess.Popen, log: Path, timeout: float) -> int:
    """Wait until the stream worker the daemon started has refreshed once; return its pid. The
    demo's week takes ~40 s, the daemon's first sensor tick 20-60 s more on a quiet machine, and
    several times that on two cores shared with other test runs."""
    deadline = time.monotonic() + timeout
    while True:
        assert demo.poll() is None, log.read_text()[-4000:]
        assert time.monotonic() < deadline, "no stream worker: " + log.read_text()[-4000:]
        try:
            with connect_demo(home) as conn:
                progress = read_progress(conn)
        except (psycopg.Error, OSError, ValueError):
            progress = None  # no server, database or table yet
        if progress is not None and progress.refreshes > 0 and progress.heartbeat_age() < 30:
            return progress.pid
        time.sleep(1)


@pytest.fixture
def demo_home(tmp_path: Path):
    home = tmp_path / "home"
    yield home
    # whatever the outcome: no process left behind, and the server stopped
    for pid in demo_processes(home):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if (home / "pgdata").exists():
        env = {**os.environ, "INVENTORY_HOME": str(home)}
        subprocess.run([sys.executable, "-m", "dagster_project.cli", "db", "stop"], env=env)


def start_demo(home: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "INVENTORY_HOME": str(home),
        "INVENTORY_STREAM_AUTOSTART": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("INVENTORY_DATABASE_URL", None)
    command = [sys.executable, str(ROOT / "dev.py"), "demo", "--orders-per-day", "60"]
    command += ["--port", str(free_port()), "--rate", "20"]
    with open(log, "ab") as out:
        # its own session and process group, as a terminal's foreground job
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def assert_all_stopped(home: Path, demo: subprocess.Popen, log: Path, worker_pid: int) -> float:
    started = time.monotonic()
    deadline = started + STOP_WITHIN_SECONDS
    while (left := demo_processes(home)) or demo.poll() is None:
        assert time.monotonic() < deadline, (
            f"still running {STOP_WITHIN_SECONDS} s after the signal: {left}\n"
            + log.read_text()[-3000:]
        )
        time.sleep(0.2)
    assert worker_pid not in demo_processes(home)
    return time.monotonic() - started


def assert_server_still_up(home: Path) -> None:
    with connect_demo(home) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


@pytest.mark.slow(170)  # seconds in a full run: the longest files start first
def test_ctrl_c_on_the_demo_stops_every_process_it_started(demo_home: Path, tmp_path: Path):
    log = tmp_path / "demo.log"
    demo = start_demo(demo_home, log)
    worker = wait_for_worker(demo_home, demo, log, timeout=240)
    running = demo_processes(demo_home)
    assert worker in running
    assert any("simulate --live" in cmd for cmd in running.values()), running
    with connect_demo(demo_home) as conn:
        # the sensor started the worker: that is no outage
        down = "select message from ops.alerts where kind = 'stream_worker_down'"
        assert conn.execute(down).fetchall() == []

    os.killpg(demo.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C

    took = assert_all_stopped(demo_home, demo, log, worker)
    print(f"stopped in {took:.1f} s")
    assert demo.returncode == 0, log.read_text()[-3000:]
    assert_server_still_up(demo_home)
