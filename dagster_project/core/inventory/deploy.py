"""Changed models deploy themselves, blue/green.

A refresh compares the project with the manifest of the last deployment, kept in
`<state>/dbt/deployed/`, using dbt's own state comparison (`state:modified`: a model's SQL,
config, contract, or a macro it calls), plus what dbt cannot see: a changed value of a var
that a model reads, directly or through a macro, and a changed rendered config. The changed
models and everything downstream are built beside the live ones, in `deploy_*` schemas, without
the refresh lease (they may take long): dbt defers every model outside the set to its live
relation. Then, under the lease, the tables built beside catch up incrementally with the events
since, and one transaction swaps them in (ops.swap_in: the views on a table are re-created on its
replacement) and replaces the changed views with their new SQL: readers wait for that moment
and never see a relation missing or half built. The manifest is recorded as deployed after that
commit; a crash before it deploys again next time, which rebuilds the same tables. A new model
is a changed one. A changed model's new SQL never runs incrementally on state its old SQL built.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from psycopg import sql

from dagster_project.core.db import connect
from dagster_project.core.db.locks import DEPLOY_LOCK, RefreshBusy, advisory_lock
from dagster_project.core.settings import Settings

log = logging.getLogger(__name__)

DEPLOY_PREFIX = "deploy_"
STORED = ("incremental", "table")


@dataclass(frozen=True)
class Model:
    """A model of the project, as the deployment builds it."""

    unique_id: str
    name: str
    schema: str
    alias: str
    materialized: str

    @property
    def is_stored(self) -> bool:
        """A table dbt keeps (incremental state, or a table): built beside and swapped in."""
        return self.materialized in STORED

    def relation(self, prefix: str = "") -> sql.Identifier:
        return sql.Identifier(prefix + self.schema, self.alias)


def deployed_dir(settings: Settings) -> Path:
    return settings.state_dir / "dbt" / "deployed"


def _record_path(settings: Settings) -> Path:
    return deployed_dir(settings) / "deployment.json"


def read_record(settings: Settings) -> dict | None:
    """The last deployment: the project digest and vars it was made from, and what it built."""
    try:
        return json.loads(_record_path(settings).read_text())
    except FileNotFoundError:
        return None


def project_vars(project_dir: Path) -> dict:
    """The vars dbt_project.yml sets, the project's own scope merged in."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    found = dict(project.get("vars") or {})
    scoped = found.pop(project["name"], None)
    return {**found, **scoped} if isinstance(scoped, dict) else found


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a crash leaves the previous file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(path.suffix + ".tmp")
    scratch.write_text(text)
    os.replace(scratch, path)


def record_deployment(
    settings: Settings, manifest, digest: str, variables: dict, models: tuple[Model, ...]
) -> None:
    """Record `manifest` as the deployed project: the manifest first, then the record naming its
    digest (a crash between them compares the new manifest with the same project: no change)."""
    folder = deployed_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / "manifest.json.tmp"
    manifest.write(str(scratch))
    os.replace(scratch, folder / "manifest.json")
    record = {
        "digest": digest,
        "vars": variables,
        "models": [m.name for m in models],
        "recorded_at": datetime.now(UTC).isoformat(),
    }
    _write(_record_path(settings), json.dumps(record, indent=2, default=str))


def models_of(manifest) -> dict[str, Model]:
    """Every model the project builds on this target."""
    return {
        uid: Model(
            unique_id=uid,
            name=node.name,
            schema=node.schema,
            alias=node.alias or node.name,
            materialized=node.config.materialized,
        )
        for uid, node in manifest.nodes.items()
        if node.resource_type == "model" and node.config.enabled
    }


def _in_build_order(manifest, unique_ids: set[str]) -> list[str]:
    """`unique_ids`, each after the models of the set it reads."""
    done: list[str] = []
    pending = sorted(unique_ids)
    while pending:
        ready = [
            uid
            for uid in pending
            if not set(manifest.nodes[uid].depends_on.nodes) & (set(pending) - {uid})
        ]
        done += ready
        pending = [uid for uid in pending if uid not in ready]
    return done


def _models_reading_vars(manifest, names: set[str]) -> set[str]:
    """Models whose SQL reads one of the vars `names`, directly or through macros: dbt's state
    comparison sees a model's raw SQL, not the values of the vars it reads."""
    if not names:
        return set()
    alternatives = "|".join(map(re.escape, sorted(names)))
    call = re.compile(r"""\bvar\(\s*['"](""" + alternatives + r""")['"]""")
    macros = {uid for uid, macro in manifest.macros.items() if call.search(macro.macro_sql)}
    grew = True
    while grew:
        callers = {
            uid
            for uid, macro in manifest.macros.items()
            if uid not in macros and set(macro.depends_on.macros) & macros
        }
        macros |= callers
        grew = bool(callers)
    return {
        uid
        for uid, node in manifest.nodes.items()
        if node.resource_type == "model"
        and (call.search(node.raw_code) or set(node.depends_on.macros) & macros)
    }


def _models_whose_config_changed(manifest, deployed: dict) -> set[str]:
    """Models whose rendered config differs from the deployed one (dbt compares the configs as
    written, and here they are rendered from vars and the target)."""
    changed = set()
    for uid, node in manifest.nodes.items():
        old = deployed["nodes"].get(uid)
        if node.resource_type != "model" or old is None:
            continue
        new = node.to_resource().to_dict(omit_none=False)["config"]
        if json.dumps(new, sort_keys=True, default=str) != json.dumps(
            old["config"], sort_keys=True, default=str
        ):
            changed.add(uid)
    return changed


def live_state_exists(settings: Settings) -> bool:
    with connect(settings) as conn:
        clock = conn.execute("select to_regclass('intermediate.refresh_clock')").fetchone()[0]
    return clock is not None


def changed_models(
    settings: Settings,
    manifest,
    digest: str,
    variables: dict,
    invoke: Callable[..., object],
) -> tuple[Model, ...] | None:
    """The models to deploy (changed ones and everything downstream, in build order); None when
    there is no deployment to compare with (the first one, or a database without live state):
    then a refresh runs every model as it always did."""
    record = read_record(settings)
    manifest_path = deployed_dir(settings) / "manifest.json"
    if record is None or not manifest_path.exists() or not live_state_exists(settings):
        return None
    if record["digest"] == digest:
        return ()
    deployed = json.loads(manifest_path.read_text())
    before = record.get("vars", {})
    changed_vars = {k for k in before | variables if before.get(k) != variables.get(k)}
    extra = _models_reading_vars(manifest, changed_vars) | _models_whose_config_changed(
        manifest, deployed
    )
    models = models_of(manifest)
    listed = invoke(
        [
            "ls",
            # (ls prints what it lists even when quiet)
            "--log-level",
            "none",
            "--resource-type",
            "model",
            "--select",
            "state:modified+",
            *(f"{models[uid].name}+" for uid in sorted(extra) if uid in models),
            "--state",
            str(deployed_dir(settings)),
            "--output",
            "json",
            "--output-keys",
            "unique_id",
        ],
        manifest=manifest,
    )
    selected = {json.loads(line)["unique_id"] for line in listed or []}
    return tuple(models[uid] for uid in _in_build_order(manifest, selected & models.keys()))


@contextmanager
def deploy_lock(
    settings: Settings, *, wait: bool, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the one deployment's lock for the block (a killed process frees it)."""
    with advisory_lock(settings, DEPLOY_LOCK, wait=False) as taken:
        if taken:
            yield
            return
    if not wait:
        raise RefreshBusy("another process is deploying changed models")
    (on_wait or log.warning)("waiting: another process is deploying changed models")
    with advisory_lock(settings, DEPLOY_LOCK):
        yield


def _beside_args(settings: Settings) -> list[str]:
    """Build into deploy_* schemas; every model outside the selection is read where it is live
    (the deployed manifest's relations), even if a copy exists beside."""
    return [
        "--vars",
        json.dumps({"schema_prefix": DEPLOY_PREFIX}),
        # its own target folder: its partial parse keeps this var between deployments
        "--target-path",
        str(settings.state_dir / "dbt" / "deploy-target"),
        "--defer",
        "--favor-state",
        "--state",
        str(deployed_dir(settings)),
    ]


def _beside_schemas(models: dict[str, Model]) -> list[str]:
    schemas = {m.schema for m in models.values()} | {"intermediate"}
    return sorted(DEPLOY_PREFIX + schema for schema in schemas)


def build_beside(
    settings: Settings, manifest, models: tuple[Model, ...], run: Callable[[list[str]], object]
) -> None:
    """Build `models` from all events into the deploy_* schemas, replacing what an interrupted
    deployment left there. Run without the refresh lease: live refreshes go on meanwhile."""
    with connect(settings) as conn:
        for schema in _beside_schemas(models_of(manifest)):
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
    run(["run", "--full-refresh", "--select", *(m.name for m in models), *_beside_args(settings)])


def swap_in(
    settings: Settings,
    manifest,
    models: tuple[Model, ...],
    run: Callable[[list[str]], object],
    invoke: Callable[..., object],
) -> None:
    """Under the refresh lease: catch the tables built beside up with the events since, then in
    one transaction put them in the place of the live ones, with their marks, and replace the
    changed views by their new SQL."""
    stored = [m for m in models if m.is_stored]
    views = [m for m in models if not m.is_stored]
    if stored:
        run(["run", "--select", *(m.name for m in stored), *_beside_args(settings)])
    compiled = {}
    if views:
        # the views' SQL as the live project names its relations (beside, it names deploy_*)
        # (--log-level none: compile prints the SQL of the models it was asked for by name)
        results = invoke(
            ["compile", "--log-level", "none", "--select", *(m.name for m in views)],
            manifest=manifest,
        )
        compiled = {r.node.unique_id: r.node.compiled_code for r in results.results}
    with connect(settings) as conn, conn.transaction():
        # every view this transaction replaces or re-creates, locked first, the outermost
        # first, as a reader takes them (ops.swap_in does the same for one table): a reader and
        # the deployment wait for each other instead of deadlocking. A view reads only views of
        # smaller depth; a no-op ALTER VIEW locks the view alone.
        for (view,) in conn.execute(
            """
            with roots as (
                select to_regclass(r) as oid from unnest(%s::text[]) as r
                where to_regclass(r) is not null
            ),
            views as (
                select oid::regclass::text as view_name, 0 as depth from roots
                where (select relkind from pg_class as c where c.oid = roots.oid) = 'v'
                union all
                select d.view_name, d.depth from roots, ops.dependent_views(roots.oid) as d
            )
            select view_name from views group by view_name order by max(depth) desc, view_name
            """,
            [[m.relation().as_string(conn) for m in models]],
        ).fetchall():
            conn.execute(sql.SQL("alter view {} reset (security_barrier)").format(sql.SQL(view)))
        run_seq = conn.execute("select run_seq from intermediate.refresh_clock").fetchone()[0]
        for model in stored:
            beside = f"{model.alias}__dbt_deploy"
            conn.execute(
                sql.SQL("alter table {} rename to {}").format(
                    model.relation(DEPLOY_PREFIX), sql.Identifier(beside)
                )
            )
            conn.execute(
                sql.SQL("alter table {} set schema {}").format(
                    sql.Identifier(DEPLOY_PREFIX + model.schema, beside),
                    sql.Identifier(model.schema),
                )
            )
            conn.execute(
                "select ops.swap_in(%s, %s)",
                [
                    model.relation().as_string(conn),
                    sql.Identifier(model.schema, beside).as_string(conn),
                ],
            )
            if model.materialized == "incremental":
                _carry_mark(conn, model, run_seq)
        for model in views:
            conn.execute(
                "select ops.replace_view(%s, %s)",
                [model.relation().as_string(conn), compiled[model.unique_id]],
            )
    with connect(settings) as conn:
        for schema in _beside_schemas(models_of(manifest)):
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))


def _carry_mark(conn, model: Model, run_seq: int) -> None:
    """The swapped-in table has read every change up to the live run `run_seq` (it caught up
    under the lease): its mark says so, in the live runs' numbers."""
    carried = conn.execute(
        sql.SQL(
            """
            insert into intermediate.state_marks (model, run_seq, as_of)
            select model, %s, as_of from {} where model = %s
            on conflict (model) do update
            set run_seq = excluded.run_seq, as_of = excluded.as_of,
                finished_at = clock_timestamp()
            """
        ).format(sql.Identifier(DEPLOY_PREFIX + "intermediate", "state_marks")),
        [run_seq, model.alias],
    )
    if carried.rowcount != 1:
        raise RuntimeError(f"{model.name} was built beside without a mark: not swapped in")
