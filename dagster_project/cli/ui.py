"""`inventory ui`: the Dagster webserver and daemon on 127.0.0.1, state kept in the state folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from dagster_project.cli.common import err, fail, ready_connection
from dagster_project.settings import Settings, get_settings

DAGSTER_YAML = """\
# realtime-inventory: run and event storage in this folder (SQLite); no telemetry
telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 2
"""


def dagster_env(settings: Settings) -> dict[str, str]:
    """DAGSTER_HOME inside the state folder, written on first use."""
    home = settings.state_dir / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return {**os.environ, "DAGSTER_HOME": str(home), "INVENTORY_HOME": str(settings.state_dir)}


def _executable(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise fail(f"{name} is not installed (pip install -e . brings it)")
    return found


def start_ui(settings: Settings, host: str, port: int) -> list[subprocess.Popen]:
    """Start the webserver and the daemon (which runs the sensors and schedules)."""
    from dagster_project.lib.dbt import inventory_dbt_project

    inventory_dbt_project()  # parse once here rather than in both processes
    env = dagster_env(settings)
    log_dir = settings.state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    target = ["-m", "dagster_project.definitions"]
    commands = {
        "webserver": [_executable("dagster-webserver"), "-h", host, "-p", str(port), *target],
        "daemon": [_executable("dagster-daemon"), "run", *target],
    }
    processes = []
    for name, command in commands.items():
        with open(log_dir / f"dagster-{name}.log", "ab") as log_file:
            processes.append(
                subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
            )
    return processes


def stop_all(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def interrupt_on_sigterm() -> None:
    """Stop on SIGTERM as on Ctrl-C, so the child processes are stopped too."""

    def interrupt(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def stop_started_worker(settings: Settings) -> None:
    """Stop the stream worker that the sensor started for this UI, if it still runs."""
    from dagster_project.defs.stream.sensors import worker_pid_file

    pid_file = worker_pid_file(settings)
    if not pid_file.exists():
        return
    with contextlib.suppress(ProcessLookupError, ValueError):
        os.kill(int(pid_file.read_text()), signal.SIGTERM)
    pid_file.unlink(missing_ok=True)


def ui(
    host: Annotated[str, typer.Option(help="address to bind (default: this machine only)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="webserver port")] = 3000,
) -> None:
    """Serve the Dagster UI and run its daemon until Ctrl-C; the daemon starts the stream worker."""
    ready_connection().close()
    settings = get_settings()
    processes = start_ui(settings, host, port)
    err.print(
        f"Dagster UI on http://{host}:{port} (DAGSTER_HOME {settings.state_dir / 'dagster'}); "
        f"logs in {settings.state_dir / 'logs'}. Ctrl-C stops it."
    )
    interrupt_on_sigterm()
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(1)
        raise fail("the Dagster webserver or daemon exited: see the logs")
    except KeyboardInterrupt:
        pass
    finally:
        stop_all(processes)
        stop_started_worker(settings)
