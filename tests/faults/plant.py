"""A simulated plant fed in chunks, and the proof that the kept state equals a rebuild: shared
by the fault tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psycopg

from dagster_project.core.db import connect
from dagster_project.core.ingest import InputFile, ingest_file
from dagster_project.core.settings import Settings
from dagster_project.core.validation.shadow import compare_with_shadow, shadow_run
from tests.conftest import ROOT, run_cli

EVENT_FILES = {"wms": "wms_events.jsonl", "mes": "mes_events.jsonl", "orders": "order_lines.jsonl"}
REFERENCE_FILES = {"skus": "skus.csv", "sku-params": "sku_params.csv", "uom": "uom_conversions.csv"}


def simulate(folder: Path, days: int = 10) -> Path:
    """`inventory simulate` of the small seeded plant into `folder`."""
    result = run_cli(
        "simulate", "--out", str(folder), "--days", str(days), "--skus", "10",
        "--orders-per-day", "40", "--late-share", "0.1", "--seed", "7",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    return folder


class Plant:
    """Two weeks of a small simulated plant (late scanner uploads included), cut into `chunks`
    slices of each event file: each slice is a batch of new events, some dated before earlier
    slices' events."""

    def __init__(self, folder: Path, chunks: int, days: int = 10, simulated: Path | None = None):
        """`simulated`: a folder `simulate` filled already (a module's tests share one, since the
        seed makes every simulation the same); the slices are cut into `folder` all the same."""
        if simulated is None:
            simulated = simulate(folder, days)
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = simulated
        self.slices: list[dict[str, Path]] = [{} for _ in range(chunks)]
        for source, name in EVENT_FILES.items():
            lines = (simulated / name).read_bytes().splitlines(keepends=True)
            size = -(-len(lines) // chunks)
            for i in range(chunks):
                path = folder / f"{i:02d}-{name}"
                path.write_bytes(b"".join(lines[i * size : (i + 1) * size]))
                self.slices[i][source] = path
        self.next = 0

    def load_reference(self, conn: psycopg.Connection) -> None:
        for source, name in REFERENCE_FILES.items():
            ingest_file(conn, source, InputFile.from_arg(str(self.folder / name)))

    def feed(self, conn: psycopg.Connection) -> None:
        """Ingest the next slice of every event file."""
        for source, path in self.slices[self.next].items():
            ingest_file(conn, source, InputFile.from_arg(str(path)))
        self.next += 1


def start_refresh(*args: str) -> subprocess.Popen:
    """`inventory refresh` in a process group of its own, as a user or a scheduler starts it."""
    return subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli", "refresh", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


# Reads an instant per line, forks a refresh at it in a session of its own, answers its pid.
# Children are reaped by the kernel (SIGCHLD ignored): a killed one is gone, not a zombie.
FORKING_LAUNCHER = """
import os, signal, sys, traceback
from datetime import datetime
from dagster_project.core.inventory.refresh import Refresher
from dagster_project.core.settings import Settings

signal.signal(signal.SIGCHLD, signal.SIG_IGN)
refresher = Refresher(Settings(), role="inventory refresh", repeated=False)
refresher.prepare()
for line in iter(sys.stdin.readline, ""):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        code = 0
        try:
            refresher.refresh(as_of=datetime.fromisoformat(line.strip()))
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    print(pid, flush=True)
"""


class ForkedRefreshes:
    """`inventory refresh`'s Refresher in processes forked from one that imported dagster_project
    and dbt and parsed the project once: a refresh to kill costs a fork, not a new interpreter's
    start-up and dbt's first parse (several seconds of CPU each). Each is a real process of its
    own, killed for real (`kill_forked`); start_refresh runs the command itself."""

    def __init__(self) -> None:
        self.launcher = subprocess.Popen(
            [sys.executable, "-c", FORKING_LAUNCHER],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def start(self, as_of: datetime) -> int:
        assert self.launcher.stdin and self.launcher.stdout
        self.launcher.stdin.write(as_of.isoformat() + "\n")
        self.launcher.stdin.flush()
        answer = self.launcher.stdout.readline()
        assert answer, f"the launcher exited with {self.launcher.wait()}"
        return int(answer)

    def close(self) -> None:
        if self.launcher.stdin:
            self.launcher.stdin.close()
        self.launcher.wait(timeout=60)


def running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def kill_forked(pid: int) -> None:
    """SIGKILL a forked refresh's session, and wait until it is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    assert wait_for(lambda: not running(pid), timeout=30), f"refresh {pid} survived SIGKILL"


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the whole group: no handler, no cleanup, as the OOM killer or a power cut."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)


def wait_for(condition, timeout: float = 120.0, every: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def assert_equals_full_rebuild(settings: Settings, as_of: datetime, after: str = "") -> None:
    """Every mart and state table, as the last refresh left them, equals a rebuild from all
    events at `as_of` (the nightly validation's comparison, without its catch-up refresh).
    `after`: what the test did before, for the message."""
    with connect(settings) as conn:
        clock = conn.execute("select as_of from intermediate.refresh_clock").fetchone()
    assert clock == (as_of,), f"the last refresh was as of {clock}, not {as_of}"
    shadow_run(settings, as_of, full_refresh=True)
    with connect(settings) as conn, conn.transaction():
        conn.execute("set transaction isolation level repeatable read read only")
        _, rows, differences = compare_with_shadow(conn, settings, as_of)
    assert not differences, (
        after,
        [(d.mart, d.live_only, d.shadow_only, d.sample) for d in differences],
    )
    assert rows["marts.inventory_position"] > 0
