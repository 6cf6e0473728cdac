"""The built wheel works outside the checkout: specs ship as package data.

The wheel is built without build isolation (no network) from a copy of the
distribution's files, installed without dependencies into a fresh virtual
environment that sees this interpreter's site-packages (where the
dependencies already are) through a ``.pth`` line, and run from an empty
directory, so only the installed package can supply the built-in specs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION_FILES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "src", "strategies")

pytestmark = pytest.mark.slow


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=900, **kwargs)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its ``bin`` directory."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in DISTRIBUTION_FILES:
        origin = REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc", "*.egg-info"))
        else:
            shutil.copy2(origin, source / name)
    dist = root / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist), str(source)])
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("shortthehype-*.whl")

    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "_shortthehype_test_dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    install = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)])
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    assert (purelib / "shortthehype" / "builtin_strategies" / "sixty_forty.toml").is_file()
    return env_dir / "bin"


def _outside_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SHORTTHEHYPE_STRATEGIES_DIR", "NUMBA_CACHE_DIR")}
    env["SHORTTHEHYPE_CACHE_DIR"] = str(tmp_path / "cache")
    env["COLUMNS"] = "200"
    return env


def test_installed_wheel_lists_the_builtin_specs(installed, tmp_path):
    completed = _run([str(installed / "shortthehype"), "strategies", "list", "--format", "csv"], cwd=tmp_path, env=_outside_env(tmp_path))
    assert completed.returncode == 0, completed.stderr[-2000:]
    names = {line.split(",")[0] for line in completed.stdout.splitlines()[1:]}
    shipped = {path.stem.replace("_", "-") for path in (REPO_ROOT / "strategies").glob("*.toml")}
    assert shipped <= names
    assert str(REPO_ROOT) not in completed.stdout  # the installed copies, not the checkout's


def test_installed_wheel_runs_the_demo(installed, tmp_path):
    completed = _run([str(installed / "shortthehype"), "demo"], cwd=tmp_path, env=_outside_env(tmp_path))
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "sixty-forty" in completed.stdout and "burry-short" in completed.stdout
    assert (tmp_path / "shortthehype-demo.html").stat().st_size > 10_000
