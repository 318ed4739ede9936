"""`inventory new-mart`: the files of a new mart, ready to build, for docs/adding-a-mart.md.

It writes the SQL skeleton, adds the mart (contract, columns, key test) to its domain's
`_<domain>__models.yml` and a unit test to `_<domain>__unit_tests.yml`, and registers it nowhere
else: every list of marts is read from the dbt manifest. What is left to write is marked TODO,
and tests/transform/test_mart_contract.py fails until it is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from dagster_project.cli.common import err, fail, out
from dagster_project.core.inventory.manifest import (
    MARTS_LAYER,
    Column,
    Mart,
    ensure_manifest,
    load_manifest,
    marts,
)
from dagster_project.core.inventory.refresh import DBT_PROJECT_DIR, DbtError
from dagster_project.core.settings import get_settings

# a Postgres identifier that needs no quoting: what dbt and the readers' SQL expect of a name
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,62}")
ENGINES = ("postgres", "materialize")
TODO = "TODO"
# the unit-test stub's name ends so; the contract test asks for cases written by hand
STUB_TEST_SUFFIX = "__one_row_per_key"
# the instant the unit-test stub computes as of
STUB_AS_OF = "2026-11-10 12:00:00+00"

AS_OF_COLUMN = """\
name: as_of
data_type: timestamptz
description: >
  The instant the figures are as of: the last refresh or its --as-of. Null on Materialize,
  where a view is always as of the moment it is read."""
AS_OF_ANCHOR = "x-as-of: &as_of\n" + "\n".join("  " + line for line in AS_OF_COLUMN.split("\n"))

SQL = """\
{config}{{#
    {todo}: what a row of {name} is and how it is computed, in a few lines; the YAML
    description says it for readers (docs/adding-a-mart.md).
#}}

with

{upstream} as (
    select * from {{{{ ref('{upstream}') }}}}
),

final as (
    select
        -- identifiers
{key_lines}
        -- {todo}: the figures, each declared in {models_yml}
        -- metadata
        {{{{ as_of() }}}} as as_of
    from {upstream}
)

select * from final
"""

CONFIG = """\
{{{{
    config(
        indexes={indexes},
    )
}}}}

"""


def _index_config(engine: str | None, keys: list[str]) -> str:
    """The index Materialize keeps the mart's results in, for reads by key; a Postgres mart is a
    plain view (macros/materializations/view.sql) and has none (macros/indexes.sql)."""
    if engine == "postgres":
        return ""
    if engine == "materialize":
        return CONFIG.format(indexes=f"[{{'columns': {keys!r}}}]")
    return CONFIG.format(indexes=f"mart_indexes({keys!r})")


@dataclass(frozen=True)
class Plan:
    """The files to write, each with its whole new text."""

    files: dict[Path, str]
    upstream: str


def _identifier(kind: str, value: str) -> str:
    if not IDENTIFIER.fullmatch(value):
        raise fail(
            f"{kind} {value!r} is not a valid identifier: lower-case letters, digits and "
            "underscores, starting with a letter, at most 63 characters"
        )
    return value


def _existing(name: str, manifest: dict[str, Any]) -> str | None:
    """Where a model, seed or snapshot of that name already is, on either engine."""
    for path in (DBT_PROJECT_DIR / "models").rglob(f"{name}.*"):
        if path.suffix in (".sql", ".py"):
            return str(path.relative_to(DBT_PROJECT_DIR.parent))
    nodes = list(manifest["nodes"].values())
    nodes += [node for found in manifest.get("disabled", {}).values() for node in found]
    for node in nodes:
        if node["name"] == name and node["resource_type"] != "test":
            return f"{node['resource_type']} {node['original_file_path']}"
    return None


def _ancestors(manifest: dict[str, Any], unique_id: str, edges: str = "parent_map") -> set[str]:
    """Every node upstream of `unique_id` (downstream with edges="child_map")."""
    seen: set[str] = set()
    todo = [unique_id]
    while todo:
        for parent in manifest[edges].get(todo.pop(), []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def _upstream(
    manifest: dict[str, Any], keys: list[str], domain: str, chosen: str | None
) -> tuple[str, dict[str, Column]]:
    """The model the skeleton reads and its declared columns: --from, else the mart keyed by
    the same columns that the others build on (the most marts downstream of it, then the fewest
    ancestors), in this domain first."""
    if chosen is not None:
        node = manifest["nodes"].get(f"model.{manifest['metadata']['project_name']}.{chosen}")
        if node is None or not node["config"].get("enabled", True):
            raise fail(f"--from {chosen}: no such model is enabled on Postgres")
        columns = {
            name: Column(name, column.get("data_type"), column["description"].strip())
            for name, column in node["columns"].items()
        }
        return chosen, columns
    candidates: list[Mart] = [m for m in marts(manifest) if set(m.key or ()) == set(keys)]
    if not candidates:
        raise fail(
            f"no mart is keyed by ({', '.join(keys)}): name the model the new mart reads "
            "with --from MODEL"
        )
    project = manifest["metadata"]["project_name"]
    mart_ids = {f"model.{project}.{m.name}" for m in marts(manifest)}
    best = min(
        candidates,
        key=lambda m: (
            m.domain != domain,
            -len(_ancestors(manifest, f"model.{project}.{m.name}", "child_map") & mart_ids),
            len(_ancestors(manifest, f"model.{project}.{m.name}")),
            m.name,
        ),
    )
    return best.name, best.columns


def _key_columns(upstream: str, columns: dict[str, Column], keys: list[str]) -> list[Column]:
    found = []
    for key in keys:
        column = columns.get(key)
        if column is None or not column.data_type:
            declared = ", ".join(columns) or "none"
            raise fail(
                f"{upstream} declares no data_type for {key} in its YAML (declared columns: "
                f"{declared}): the new mart's contract takes the key's types from the model it "
                "reads; choose another with --from, or declare the column there first"
            )
        found.append(column)
    return found


def _sample(column: Column, i: int) -> Any:
    """A value of the column's type for row i of the unit-test stub."""
    kind = (column.data_type or "").lower()
    if kind in ("numeric", "bigint", "integer", "int", "smallint", "double precision", "real"):
        return i
    if kind in ("timestamptz", "timestamp with time zone", "timestamp"):
        return f"2026-11-0{i} 00:00:00+00"
    if kind == "date":
        return f"2026-11-0{i}"
    if kind == "boolean":
        return i == 1
    return f"{column.name[0].upper()}{i}"


def _flow(row: dict[str, Any]) -> str:
    """One YAML flow mapping, `{a: 1, b: "x"}`, as the project's unit tests write rows."""
    return yaml.safe_dump(row, default_flow_style=True, sort_keys=False, width=1000).strip()


def _models_entry(name: str, keys: list[Column], has_anchor: bool) -> str:
    lines = [
        f"  - name: {name}",
        "    description: >",
        f"      {TODO}: what one row is (its grain), what each figure means, and every choice",
        "      made where DOMAIN.md is silent.",
        "    config:",
        "      contract: {enforced: true}",
        "    columns:",
        "      # identifiers",
    ]
    # a single key column is tested unique on its own, a compound key as a whole
    tests = "[not_null, unique]" if len(keys) == 1 else "[not_null]"
    for column in keys:
        description = column.description or f"{TODO}: what {column.name} identifies."
        lines += [
            f"      - name: {column.name}",
            f"        data_type: {column.data_type}",
            f"        description: {_flow_scalar(description)}",
            f"        data_tests: {tests}",
        ]
    lines += [
        f"      # {TODO}: the figures, each with its data_type and description",
        "      # metadata",
    ]
    if has_anchor:
        lines.append("      - *as_of")
    else:
        first, *rest = AS_OF_COLUMN.split("\n")
        lines += [f"      - {first}", *(f"        {line}" for line in rest)]
    if len(keys) > 1:
        lines += [
            "    data_tests:",
            "      - unique_key_columns:",
            "          arguments:",
            f"            columns: [{', '.join(c.name for c in keys)}]",
        ]
    return "\n".join(lines) + "\n"


def _flow_scalar(text: str) -> str:
    return yaml.safe_dump(text, default_style=None, width=1000).strip().removesuffix("\n...")


def _unit_test_entry(name: str, upstream: str, keys: list[Column]) -> str:
    rows = []
    for i in (1, 2):
        # the second row differs in the first key column only
        rows.append({c.name: _sample(c, i if n == 0 else 1) for n, c in enumerate(keys)})
    lines = [
        f"  # {TODO}: cases worked out by hand from DOMAIN.md, the arithmetic in a comment above",
        "  # each (docs/adding-a-mart.md#unit-tests). This stub only says that every row read",
        "  # gives one row, stamped with as_of.",
        f"  - name: {name}{STUB_TEST_SUFFIX}",
        f"    model: {name}",
        "    overrides:",
        f'      vars: {{as_of: "{STUB_AS_OF}"}}',
        "    given:",
        f"      - input: ref('{upstream}')",
        "        rows:",
        *[f"          - {_flow(row)}" for row in rows],
        "    expect:",
        "      rows:",
        *[f"        - {_flow(row | {'as_of': STUB_AS_OF})}" for row in rows],
    ]
    return "\n".join(lines) + "\n"


def _appended(path: Path, header: str, list_key: str, entry: str, name: str) -> str:
    """The file's text with `entry` added to its top-level `list_key` list (the file's last
    key), or a new file; checked by parsing it back."""
    before = path.read_text() if path.exists() else header + f"\n{list_key}:\n"
    text = before.rstrip("\n") + "\n\n" + entry
    try:
        items = (yaml.safe_load(text) or {}).get(list_key) or []
    except yaml.YAMLError as exc:
        items = []
        problem = str(exc)
    else:
        problem = f"`{list_key}:` is not the last key of the file"
    if not any(isinstance(item, dict) and item.get("name") == name for item in items):
        raise fail(
            f"could not add {name} to {path.relative_to(DBT_PROJECT_DIR.parent)} ({problem}); "
            f"nothing was written. Add this under `{list_key}:` by hand:\n{entry}"
        )
    return text


def _engine_folder_config(domain: str, engine: str) -> str | None:
    """dbt_project.yml with the folder `marts/<domain>/<engine>/` enabled on that engine only,
    or None when it already is (dbt warns about config for a folder with no models, so each
    domain's engine folder is configured when its first model arrives)."""
    path = DBT_PROJECT_DIR / "dbt_project.yml"
    text = path.read_text()
    project = yaml.safe_load(text)
    marts_config = project["models"][project["name"]][MARTS_LAYER]
    if (marts_config.get(domain) or {}).get(engine, {}).get("+enabled") is not None:
        return None
    lines = text.split("\n")
    start = next(
        (i for i, line in enumerate(lines) if re.fullmatch(rf"(\s+){MARTS_LAYER}:\s*", line)),
        None,
    )
    if start is None:
        raise fail("dbt_project.yml has no `marts:` block under models")
    indent = len(lines[start]) - len(lines[start].lstrip()) + 2
    end = start + 1
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) >= indent
    ):
        end += 1
    while not lines[end - 1].strip():
        end -= 1
    enabled = [
        f"{' ' * (indent + 2)}{engine}:",
        f"{' ' * (indent + 4)}+enabled: \"{{{{ target.type == '{engine}' }}}}\"",
    ]
    domain_line = next(
        (
            i
            for i in range(start + 1, end)
            if re.fullmatch(rf"\s{{{indent}}}{domain}:\s*", lines[i])
        ),
        None,
    )
    if domain_line is not None:
        lines[domain_line + 1 : domain_line + 1] = enabled
    elif domain in marts_config:
        raise fail(
            f"dbt_project.yml configures marts/{domain}/ in a form this command does not edit; "
            f"nothing was written. Enable marts/{domain}/{engine}/ there on {engine} only"
        )
    else:
        comment = f"{' ' * indent}# marts one engine keeps (docs/adding-a-mart.md#one-engine-only)"
        lines[end:end] = [comment, f"{' ' * indent}{domain}:", *enabled]
    new = "\n".join(lines)
    config = yaml.safe_load(new)["models"][project["name"]][MARTS_LAYER]
    if (config.get(domain) or {}).get(engine, {}).get("+enabled") is None:
        raise fail(
            f"could not enable marts/{domain}/{engine}/ in dbt_project.yml; nothing was "
            f"written. Add under models: {project['name']}: marts:\n  {domain}:\n"
            + "\n".join(line[indent - 2 :] for line in enabled)
        )
    return new


def plan(name: str, keys: list[str], domain: str, engine: str | None, chosen: str | None) -> Plan:
    settings = get_settings()
    try:
        manifest = load_manifest(ensure_manifest(settings))
    except DbtError as exc:
        raise fail(f"{exc}: the project must parse before a mart is added") from exc
    where = _existing(name, manifest)
    if where is not None:
        raise fail(f"{name} already exists ({where}): choose another name")
    upstream, columns = _upstream(manifest, keys, domain, chosen)
    key_columns = _key_columns(upstream, columns, keys)

    folder = DBT_PROJECT_DIR / "models" / MARTS_LAYER / domain
    models_yml = folder / f"_{domain}__models.yml"
    unit_tests_yml = folder / f"_{domain}__unit_tests.yml"
    sql_path = folder / engine / f"{name}.sql" if engine else folder / f"{name}.sql"
    has_anchor = "&as_of" in models_yml.read_text() if models_yml.exists() else True

    files = {
        sql_path: SQL.format(
            config=_index_config(engine, keys),
            todo=TODO,
            name=name,
            upstream=upstream,
            key_lines="\n".join(f"        {key}," for key in keys),
            models_yml=models_yml.name,
        ),
        models_yml: _appended(
            models_yml,
            "version: 2\n\n" + AS_OF_ANCHOR + "\n",
            "models",
            _models_entry(name, key_columns, has_anchor),
            name,
        ),
        unit_tests_yml: _appended(
            unit_tests_yml,
            f"version: 2\n\n# Unit tests of the {domain} marts: given/expect rows worked out by "
            "hand.\n",
            "unit_tests",
            _unit_test_entry(name, upstream, key_columns),
            f"{name}{STUB_TEST_SUFFIX}",
        ),
    }
    if engine is not None and (config := _engine_folder_config(domain, engine)) is not None:
        files[DBT_PROJECT_DIR / "dbt_project.yml"] = config
    return Plan(files=files, upstream=upstream)


def new_mart(
    name: Annotated[str, typer.Argument(help="the mart's name: the view marts.NAME")],
    keys: Annotated[
        str, typer.Option("--keys", help="the columns that identify a row, comma-separated")
    ],
    domain: Annotated[
        str, typer.Option("--domain", help="its folder under dbt_project/models/marts")
    ] = "inventory",
    postgres_only: Annotated[
        bool, typer.Option("--postgres-only", help="a mart Materialize cannot keep")
    ] = False,
    materialize_only: Annotated[
        bool, typer.Option("--materialize-only", help="a mart only Materialize keeps")
    ] = False,
    from_model: Annotated[
        str | None,
        typer.Option("--from", help="the model it reads (default: the mart with the same key)"),
    ] = None,
) -> None:
    """Add a mart: SQL skeleton, YAML with its contract and key test, a unit-test stub."""
    _identifier("mart name", name)
    _identifier("--domain", domain)
    key_list = [k.strip() for k in keys.split(",") if k.strip()]
    if not key_list:
        raise fail("--keys names no column")
    for key in key_list:
        _identifier("key column", key)
    if len(set(key_list)) != len(key_list) or "as_of" in key_list:
        raise fail("--keys: each column once, and not as_of (every mart carries it as metadata)")
    if postgres_only and materialize_only:
        raise fail("--postgres-only and --materialize-only: choose one, or neither for both")
    engine = "postgres" if postgres_only else "materialize" if materialize_only else None
    if from_model is not None:
        _identifier("--from", from_model)

    scaffold = plan(name, key_list, domain, engine, from_model)
    for path, text in scaffold.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        out.print(f"wrote {path.relative_to(DBT_PROJECT_DIR.parent)}")
    err.print(
        f"{name} reads {scaffold.upstream}. Next: write the TODOs (docs/adding-a-mart.md), then "
        f"`cd dbt_project && dbt build -s {name}` and "
        "`python3 dev.py test tests/transform/test_mart_contract.py`."
    )
