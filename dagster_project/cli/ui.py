"""`inventory ui`: the Dagster webserver and daemon on 127.0.0.1, state kept in the state folder."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from dagster_project.cli.common import err, fail, ready_connection
from dagster_project.core.settings import PROJECT_ROOT, Settings, child_env, get_settings

DAGSTER_YAML = """\
# realtime-inventory: run and event storage in this folder (SQLite); no telemetry
telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 2
"""


def dagster_env(settings: Settings) -> dict[str, str]:
    """DAGSTER_HOME inside the state folder, written on first use."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return {**child_env(settings), "DAGSTER_HOME": str(home)}


def _executable(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise fail(f"{name} is not installed (pip install -e . brings it)")
    return found


# Set in the environment of every process the UI or the demo starts, and inherited by what those
# start in turn (the code servers, the stream worker in its own session): how they are all found
# when it stops, whichever process started them and whatever became of their parents.
STARTED_BY = "INVENTORY_STARTED_BY"
# On stop: this long for the processes to stop on Ctrl-C (the worker ends its step), then SIGTERM,
# then SIGKILL at INVENTORY_STOP_GRACE_SECONDS, so that with its default all of it is gone within
# 10 s of Ctrl-C or SIGTERM (a Python process with Dagster and dbt loaded takes a second or two
# more to exit). The code servers wait up to 60 s for calls in flight, and a run the daemon
# launched is cut short: Dagster marks it failed.
INTERRUPT_SECONDS = 2.0


def _proc_state(pid: int) -> str | None:
    """The process's state letter from /proc (Z: a zombie), None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _tagged(token: str) -> list[int]:
    """Live processes started with STARTED_BY=token, bar this one and PostgreSQL (detached by
    design, stopped by `inventory db stop`). Empty where there is no /proc."""
    marker = f"{STARTED_BY}={token}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if Path(os.readlink(entry / "exe")).name == "postgres":
                continue
        except OSError:
            continue  # gone, or another user's
        if _proc_state(pid) not in (None, "Z"):
            found.append(pid)
    return found


def _describe(pid: int) -> str:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return str(pid)
    return f"{pid} ({cmdline.decode(errors='replace').strip()[:120]})"


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


class Supervisor:
    """The processes `inventory ui` and `inventory demo --serve` start, and their stopping."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.token = f"{os.getpid()}-{secrets.token_hex(6)}"
        self.processes: list[subprocess.Popen] = []
        self.log_dir = settings.state_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        return {**dagster_env(self.settings), STARTED_BY: self.token}

    def start(self, name: str, command: list[str], cwd: Path | None = None) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "ab") as log_file:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=self.env(),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.processes.append(process)
        return process

    def all_running(self) -> bool:
        return all(p.poll() is None for p in self.processes)

    def stop(self) -> None:
        """Stop all of it within INVENTORY_STOP_GRACE_SECONDS: the direct children with SIGINT (as
        Ctrl-C would) and the worker the sensor started with SIGTERM (it ends its step); then
        SIGTERM to whatever still carries this supervisor's token (code servers waiting on a call,
        runs); then SIGKILL."""
        with contextlib.suppress(ValueError):  # signals can only be set in the main thread
            # a second Ctrl-C or SIGTERM must not cut the stopping short
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)
        started = time.monotonic()
        grace = self.settings.stop_grace_seconds
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        stop_started_worker(self.settings, wait=False)
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, started + INTERRUPT_SECONDS - time.monotonic()))
        # once the daemon is down no sensor can start another worker: a new pid file is the last
        stop_started_worker(self.settings, wait=False)
        for pid in self._left():
            _signal(pid, signal.SIGTERM)
        while self._left() and time.monotonic() < started + grace:
            time.sleep(0.2)
        for pid in self._left():
            err.print(f"still running after {grace:g} s, killed: {_describe(pid)}")
            _signal(pid, signal.SIGKILL)
        for process in self.processes:
            process.wait()
        _worker_pid_file(self.settings).unlink(missing_ok=True)
        err.print(f"stopped in {time.monotonic() - started:.1f} s")

    def _left(self) -> list[int]:
        running = [p.pid for p in self.processes if p.poll() is None]
        return running + [pid for pid in _tagged(self.token) if pid not in running]


def fail_runs_cut_short(settings: Settings) -> int:
    """Mark failed the runs that the last stop of the UI cut short; return how many.

    Its daemon's runs die with it (stop() ends all it started), but one killed mid-step stays
    STARTED for good: the default run launcher cannot see its process die. Two such held the run
    queue's two slots, so no check run, validation or reconciliation ran again."""
    import dagster as dg

    unfinished = [
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    ]
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(statuses=unfinished))
        for run in runs:
            instance.report_run_failed(run, "cut short when `inventory ui` last stopped")
    return len(runs)


def start_ui(supervisor: Supervisor, host: str, port: int) -> None:
    """Start the webserver and the daemon (which runs the sensors and schedules)."""
    from dagster_project.defs.inventory.project import inventory_dbt_project

    inventory_dbt_project()  # parse once here rather than in both processes
    dagster_env(supervisor.settings)  # the instance's folder and configuration
    if failed := fail_runs_cut_short(supervisor.settings):
        err.print(f"{failed} run(s) cut short when the UI last stopped: marked failed")
    # no target: in the project folder both read pyproject.toml's [tool.dg.project], the module
    # and the code location's name with it (`-m` alone would name the location after the module,
    # and every load would warn that the project's name does not match)
    supervisor.start(
        "dagster-webserver",
        [_executable("dagster-webserver"), "-h", host, "-p", str(port)],
        cwd=PROJECT_ROOT,
    )
    supervisor.start("dagster-daemon", [_executable("dagster-daemon"), "run"], cwd=PROJECT_ROOT)


def interrupt_on_sigterm() -> None:
    """Stop on SIGTERM (a supervisor) and SIGHUP (a closed terminal) as on Ctrl-C, so that the
    child processes are stopped too."""

    def interrupt(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)


def _worker_pid_file(settings: Settings) -> Path:
    from dagster_project.defs.stream.sensors import worker_pid_file  # dagster: imported on use

    return worker_pid_file(settings)


def _is_stream_worker(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return not Path("/proc").exists()  # no /proc to check with: trust the pid file
    return b"dagster_project.cli" in cmdline and b"stream" in cmdline


def stop_started_worker(settings: Settings, wait: bool = True) -> None:
    """Stop the stream worker that the sensor started for this UI, if it still runs (and the pid
    is still that worker's: not some process that got the number since)."""
    try:
        pid = int(_worker_pid_file(settings).read_text())
    except (OSError, ValueError):
        return
    if _proc_state(pid) in (None, "Z") or not _is_stream_worker(pid):
        return
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + settings.stop_grace_seconds
    while wait and _proc_state(pid) not in (None, "Z"):
        if time.monotonic() > deadline:
            _signal(pid, signal.SIGKILL)
            break
        time.sleep(0.2)


def ui(
    host: Annotated[str, typer.Option(help="address to bind (default: this machine only)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="webserver port")] = 3000,
) -> None:
    """Serve the Dagster UI and run its daemon until Ctrl-C; the daemon starts the stream worker."""
    ready_connection().close()
    settings = get_settings()
    supervisor = Supervisor(settings)
    interrupt_on_sigterm()
    try:
        start_ui(supervisor, host, port)
        err.print(
            f"Dagster UI on http://{host}:{port} (DAGSTER_HOME {settings.dagster_home}); "
            f"logs in {settings.state_dir / 'logs'}. Ctrl-C stops it."
        )
        while supervisor.all_running():
            time.sleep(1)
        raise fail("the Dagster webserver or daemon exited: see the logs")
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()
