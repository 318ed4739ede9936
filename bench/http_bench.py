"""HTTP ingest speed: `inventory serve` on loopback, N concurrent clients posting WMS events.

Prints requests/s, events/s and latency (p50, p95) for small requests (1 event each) and large
ones (1,000 events each), for each client count. Every event is new (accepted), so each request
is a full batch: copy, judge, land under the ingest lock, commit.

    python bench/http_bench.py [--clients 1,8] [--small 1000] [--large 60]

The server runs as a user starts it (`inventory serve`, its own process, no access log); the
clients share the machine with it and with Postgres. Uses its own state folder
(`<INVENTORY_HOME>/bench-http`) and empties it.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from itertools import count
from pathlib import Path

import httpx
import orjson
from common import fresh_state, machine

from dagster_project.core.db.server import EmbeddedServer
from dagster_project.core.ingest.http import serve_token


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = free_port()


def start_server(home: Path) -> subprocess.Popen:
    log = open(home / "serve.log", "ab")  # noqa: SIM115 - the child writes it until stopped
    command = ["serve", "--port", str(PORT), "--no-access-log"]
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli", *command],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            sys.exit(f"inventory serve exited:\n{(home / 'serve.log').read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/openapi.json").status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            sys.exit("inventory serve never answered")
        time.sleep(0.2)


def bodies(n_requests: int, per_request: int, ids: count) -> list[bytes]:
    """Request bodies of new WMS receipts, built before the clock starts."""
    out = []
    for _ in range(n_requests):
        events = []
        for _ in range(per_request):
            i = next(ids)
            events.append(
                {
                    "event_id": f"HTTP-{i:09d}",
                    "event_type": "receipt",
                    "sku_id": f"S{i % 2000}",
                    "location_id": f"L{i % 7}",
                    "qty_delta": 1 + i % 50,
                    "unit_cost": 1.25,
                    "event_ts": "2026-11-02T08:00:00Z",
                }
            )
        out.append(orjson.dumps(events))
    return out


async def post_all(token: str, clients: int, work: list[bytes], per_request: int):
    """Each client posts the next body until none are left; returns (seconds, latencies)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    pending = iter(work)
    latencies: list[float] = []

    async def client(http: httpx.AsyncClient) -> None:
        for body in pending:
            started = time.perf_counter()
            answer = await http.post("/v1/events/wms", content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 200 or answer.json()["accepted"] != per_request:
                raise RuntimeError(f"unexpected answer {answer.status_code}: {answer.text}")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{PORT}", limits=limits, timeout=300
    ) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,8", help="client counts to run, comma-separated")
    parser.add_argument("--small", type=int, default=1000, help="requests of 1 event")
    parser.add_argument("--large", type=int, default=60, help="requests of 1,000 events")
    args = parser.parse_args()

    settings = fresh_state("bench-http")
    token = serve_token(settings)
    server = start_server(settings.state_dir)
    ids = count()
    print(machine())
    print(
        f"{'clients':>7} {'events/request':>15} {'requests':>9} {'seconds':>8} "
        f"{'requests/s':>11} {'events/s':>10} {'p50 ms':>7} {'p95 ms':>7}"
    )
    try:
        for clients in (int(c) for c in args.clients.split(",")):
            for per_request, n in ((1, args.small), (1000, args.large)):
                work = bodies(n, per_request, ids)
                seconds, latencies = asyncio.run(post_all(token, clients, work, per_request))
                p50 = statistics.median(latencies) * 1000
                p95 = statistics.quantiles(latencies, n=20)[-1] * 1000
                print(
                    f"{clients:>7} {per_request:>15,} {n:>9,} {seconds:>8.2f} "
                    f"{n / seconds:>11,.1f} {n * per_request / seconds:>10,.0f} "
                    f"{p50:>7.1f} {p95:>7.1f}"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
        EmbeddedServer(settings).stop()


if __name__ == "__main__":
    main()
