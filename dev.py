#!/usr/bin/env python3
"""Project tasks with nothing but Python 3.11 and pip: `python3 dev.py setup|demo|test|lint|bench`.

Creates `.venv` on first use and reinstalls only when pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".installed"
# pip 25.3+ refuses dbt-materialize's metadata (a direct-URL dependency in its dev extra)
PIP = "pip>=23,<25.3"


def run(*args: str | Path) -> None:
    """Run a command and wait for it, however it is stopped.

    Ctrl-C reaches the command from the terminal (it is in the same foreground process group):
    this process ignores it and waits, so the command can stop what it started (the demo: the
    Dagster processes, the stream worker). `subprocess.run` would kill the command a quarter of a
    second after Ctrl-C instead. SIGTERM and SIGHUP, sent to this process alone (a supervisor, a
    closed terminal), are passed on as SIGTERM."""
    print("+", " ".join(str(a) for a in args), flush=True)
    child: subprocess.Popen | None = None

    def pass_on(*_) -> None:
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    # handlers, not SIG_IGN: an ignored signal would stay ignored in the command after exec
    handlers = {signal.SIGINT: lambda *_: None, signal.SIGTERM: pass_on, signal.SIGHUP: pass_on}
    saved = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        child = subprocess.Popen([str(a) for a in args], cwd=ROOT)
        code = child.wait()
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    if code:
        # killed by a signal: exit as a shell reports it (128 + its number)
        raise subprocess.CalledProcessError(code if code > 0 else 128 - code, args)


def setup() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PIP)
    run(
        BIN / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        # no byte-compiling of every installed module (dagster, dbt, their dependencies) up
        # front: a process compiles what it imports the first time, about half of it
        "--no-compile",
        "-e",
        ".[dev]",
    )
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    task, rest = (argv[0], argv[1:]) if argv else ("help", [])
    os.environ.setdefault("INVENTORY_HOME", str(ROOT / ".inventory"))
    if task == "setup":
        setup()
    elif task == "demo":
        setup()
        run(BIN / "inventory", "demo", "--serve", *rest)
    elif task == "test":
        setup()
        (ROOT / ".inventory").mkdir(exist_ok=True)  # pytest's --basetemp is made inside it
        # three workers on two cores, a file each at a time (a file's tests share its fixtures'
        # data): the tests wait on dbt, Postgres, the Dagster daemon and child processes much of
        # the time (a full run: 16:54 with three and this order; 23:13 with two, earlier).
        # Each worker starts its own embedded server. The longest files first (tests/conftest.py
        # orders them), not xdist's most-tests-first. `-n 0` runs in one process.
        workers = (
            []
            if any(a.startswith("-n") for a in rest)
            else ["-n", "3", "--dist", "loadfile", "--no-loadscope-reorder"]
        )
        run(BIN / "python", "-m", "pytest", *workers, *rest)
    elif task == "lint":
        setup()
        run(BIN / "ruff", "check", ".")
        run(BIN / "ruff", "format", "--check", ".")
    elif task == "bench":
        setup()
        run(BIN / "python", "bench/ingest_bench.py", *rest)
    else:
        print(__doc__)
        return 0 if task == "help" else 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
