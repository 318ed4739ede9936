"""`inventory`: the embedded database, ingest and load data, quarantine, marts, stream, UI."""

from __future__ import annotations

import typer

from dagster_project.cli import (
    data,
    db,
    demo,
    marts,
    new_mart,
    reconciliation,
    serve,
    simulate,
    stream,
    ui,
)

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
app.add_typer(db.app, name="db")
app.command()(data.ingest)
app.command()(data.load)
app.add_typer(data.quarantine_app, name="quarantine")
app.add_typer(reconciliation.app, name="reconciliation")
app.command(name="refresh")(marts.refresh_command)
app.command(name="new-mart")(new_mart.new_mart)
app.command()(simulate.simulate)
app.command()(serve.serve)
app.command()(stream.stream)
app.command()(ui.ui)
app.command()(demo.demo)
