"""Registers every command on the typer app (imported lazily by ``main``)."""

from __future__ import annotations

from shortthehype.cli import (  # noqa: F401  (modules register their commands)
    app,
    backtest_cmd,
    bubble_cmd,
    demo_cmd,
    report_cmd,
    results_cmd,
    study_cmd,
    sweep_cmd,
    walkforward_cmd,
)
from shortthehype.cli.data_cmd import data_app

app.add_typer(data_app, name="data")
