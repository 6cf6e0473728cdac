"""Registers every command on the typer app (imported lazily by ``main``)."""

from __future__ import annotations

from shortthehype.cli import app, backtest_cmd, bubble_cmd, demo_cmd, report_cmd, study_cmd, sweep_cmd  # noqa: F401  (modules register their commands)
from shortthehype.cli.data_cmd import data_app

app.add_typer(data_app, name="data")
