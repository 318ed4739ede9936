"""`inventory serve` started as a user starts it, in a child process on a free port, against the
session's embedded database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dagster_project.core.settings import Settings

# small enough that the 413 tests send little, large enough for the 1,000-record batches
BODY_LIMIT = 1 << 20


@dataclass(frozen=True)
class Served:
    url: str
    token: str
    log: Path
    pid: int

    def post(self, source: str, body: bytes, content_type: str, token: str | None = None):
        headers = {"Content-Type": content_type}
        if (token := self.token if token is None else token) != "":
            headers["Authorization"] = f"Bearer {token}"
        return httpx.post(f"{self.url}/v1/events/{source}", content=body, headers=headers)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_serve(
    settings: Settings, log: Path, env: dict[str, str | None]
) -> tuple[subprocess.Popen, str]:
    """Start `inventory serve`; `env` adds variables to this process's, None removes one."""
    port = free_port()
    child_env = {**os.environ, "INVENTORY_HOME": str(settings.state_dir), **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli", "serve", "--port", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={k: v for k, v in child_env.items() if v is not None},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, f"inventory serve exited:\n{log.read_text()}"
        try:
            if httpx.get(f"{url}/openapi.json").status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"inventory serve never answered:\n{log.read_text()}"
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.fixture(scope="session")
def served(database: str, settings: Settings, tmp_path_factory) -> Iterator[Served]:
    """The server with its generated token file, and a 1 MiB body limit."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    process, url = start_serve(
        settings,
        log,
        {"INVENTORY_SERVE_MAX_BODY_BYTES": str(BODY_LIMIT), "INVENTORY_SERVE_TOKEN": None},
    )
    token = settings.serve_token_file.read_text().strip()
    yield Served(url, token, log, process.pid)
    assert stop(process) == 0, log.read_text()
