"""infra/compose.yaml, checked without Docker (there is no engine where the tests run): every
published port listens on 127.0.0.1 only, every image is pinned, and no password is written in."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

INFRA = Path(__file__).resolve().parents[2] / "infra"
PINNED_TAG = re.compile(r"^v?\d+\.\d+")


def _services() -> dict[str, dict]:
    return yaml.safe_load((INFRA / "compose.yaml").read_text())["services"]


def _host_ip(port: str | int | dict) -> str | None:
    if isinstance(port, dict):  # long syntax
        return port.get("host_ip")
    parts = str(port).split(":")  # short syntax: [host_ip:]host_port:container_port
    return parts[0] if len(parts) == 3 else None


def test_every_published_port_binds_localhost_only() -> None:
    for name, service in _services().items():
        assert service.get("network_mode") != "host", name
        for port in service.get("ports", []):
            assert _host_ip(port) == "127.0.0.1", f"{name} publishes {port!r} beyond localhost"


def test_every_image_is_pinned() -> None:
    for name, service in _services().items():
        image = service["image"]
        if "@sha256:" in image:
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest" and PINNED_TAG.match(tag), f"{name}: {image} is not pinned"


def test_passwords_come_from_the_environment() -> None:
    for name, service in _services().items():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key:
                assert re.fullmatch(r"\$\{\w+(:?\?[^}]*)?\}", str(value)), f"{name}.{key}"
    init = (INFRA / "landing-postgres-init.sql").read_text()
    assert "\\getenv replication_password LANDING_PG_PASSWORD" in init


def test_landing_publication_is_the_one_the_cdc_source_reads() -> None:
    init = (INFRA / "landing-postgres-init.sql").read_text()
    source = (
        INFRA.parent / "dbt_project" / "models" / "materialize" / "sources" / "landing_pg.sql"
    ).read_text()
    assert "create publication inventory_landing for tables in schema raw;" in init
    assert "(publication 'inventory_landing')" in source
