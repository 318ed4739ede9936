#!/usr/bin/env python3
"""Project tasks with nothing but Python 3.11 and pip: `python3 dev.py setup|demo|test|lint|bench`.

Creates `.venv` on first use and reinstalls only when pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
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
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


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
        run(BIN / "python", "-m", "pytest", *rest)
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
