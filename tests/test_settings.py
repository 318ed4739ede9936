"""Every environment variable the code reads is a typed, described setting; docs/configuration.md
lists exactly those; a value that does not parse stops the process with the field's name."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from dagster_project.core import settings as settings_module
from dagster_project.core.settings import MaterializeSettings, Settings
from tests.conftest import ROOT

# a read of the environment; writes (`os.environ[X] = ..`, setdefault, pop) set it for children
RAW_READ = re.compile(r"os\.getenv\(|environ\.get\(|os\.environ\[[^\]]+\](?!\s*=)")


def settings_classes() -> list[type[BaseSettings]]:
    return [
        value
        for value in vars(settings_module).values()
        if isinstance(value, type) and issubclass(value, BaseSettings) and value is not BaseSettings
    ]


def shown(default: object) -> str:
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`" if default != "" else "empty"


def expected_rows() -> list[str]:
    rows = []
    for model in settings_classes():
        prefix = model.model_config["env_prefix"]
        for name, field in model.model_fields.items():
            extra = field.json_schema_extra or {}
            default = extra.get("shown_default") or shown(field.default)
            rows.append(f"| `{prefix}{name.upper()}` | {default} | {field.description} |")
    return rows


def documented_rows() -> list[str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table[:2] == ["| variable | default | meaning |", "|---|---|---|"], table[:2]
    return table[2:]


def test_the_configuration_doc_lists_every_setting_with_its_default_and_meaning():
    expected = expected_rows()
    assert documented_rows() == expected, "docs/configuration.md's table, from the settings:\n" + (
        "\n".join(expected)
    )


def test_every_setting_has_a_description():
    for model in settings_classes():
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"


def test_no_module_reads_the_environment_around_the_settings():
    raw = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "dagster_project").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if RAW_READ.search(line)
    ]
    assert raw == []


@pytest.mark.parametrize(
    ("variable", "value", "field"),
    [
        ("INVENTORY_STREAM_STALE_SECONDS", "soon", "stream_stale_seconds"),
        ("INVENTORY_STREAM_OBSERVE_SECONDS", "-1", "stream_observe_seconds"),
        ("INVENTORY_STREAM_AUTOSTART", "maybe", "stream_autostart"),
        ("INVENTORY_SINK_CRASH_AT", "before_commit", "sink_crash_at"),
        ("INVENTORY_SERVER_PORT", "70000", "server_port"),
        ("INVENTORY_SERVE_TOKEN", "short", "serve_token"),
    ],
)
def test_a_value_that_does_not_parse_names_its_setting(monkeypatch, variable, value, field):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=field):
        Settings()


def test_a_bad_materialize_setting_names_itself(monkeypatch):
    monkeypatch.setenv("MZ_SSLMODE", "on")
    with pytest.raises(ValidationError, match="sslmode"):
        MaterializeSettings()


def test_the_materialize_defaults_are_the_dbt_profiles():
    profile = (ROOT / "dbt_project" / "profiles.yml").read_text()
    in_profile = dict(re.findall(r"env_var\('(MZ_\w+)', '([^']*)'\)", profile))
    ours = {
        f"MZ_{name.upper()}": str(f.default) for name, f in MaterializeSettings.model_fields.items()
    }
    # the cluster is dbt's alone: the ERP feed reads the marts from any cluster
    assert ours == {k: v for k, v in in_profile.items() if k != "MZ_CLUSTER"}


def test_a_cron_dagster_cannot_read_stops_the_definitions_loading():
    done = subprocess.run(
        [sys.executable, "-c", "import dagster_project.defs.validation.schedules"],
        env={**os.environ, "INVENTORY_VALIDATION_CRON": "nightly"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "invalid cron schedule 'nightly'" in done.stderr
