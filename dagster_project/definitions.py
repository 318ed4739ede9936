"""The one entry point, loading every domain in defs/: `dagster dev` in the project folder finds it
(and the code location's name) in pyproject.toml."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
