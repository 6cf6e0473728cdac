"""Package-level promises: public API, numba cache on a read-only install, CLI entry points."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import shortthehype

SRC = Path(shortthehype.__file__).resolve().parent


def test_all_names_exist_and_public_names_are_exported():
    for name in shortthehype.__all__:
        assert getattr(shortthehype, name) is not None, name
    public = {n for n in vars(shortthehype) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(shortthehype, n)).__name__ == "module"}
    assert public - modules <= set(shortthehype.__all__)
    assert sorted(shortthehype.__all__) == shortthehype.__all__


def test_import_does_not_load_numba_kernels():
    code = "import sys, shortthehype; print(any(m.startswith('shortthehype.core') for m in sys.modules))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.stdout.strip() == "False", completed.stderr


KERNEL_CALL = (
    "import numpy as np, shortthehype.core.metrics_nb as m; "
    "print(m.total_return_1d_nb(np.array([0.1, -0.05, 0.02])))"
)


def _run_read_only(package_root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run KERNEL_CALL with ``package_root`` bind-mounted read-only in a private mount namespace."""
    if not shutil.which("unshare") or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode:
        if os.environ.get("CI"):
            pytest.fail("CI needs unshare (util-linux) to test the read-only numba cache")
        pytest.skip("unshare cannot create a mount namespace here")
    script = f"mount --bind {package_root} {package_root} && mount -o remount,bind,ro {package_root} && exec \"$@\""
    command = ["unshare", "-rm", "sh", "-c", script, "sh", sys.executable, "-c", KERNEL_CALL]
    return subprocess.run(command, capture_output=True, text=True, env=env)


def test_numba_cache_works_when_the_package_is_read_only(tmp_path):
    package_root = tmp_path / "site"
    shutil.copytree(SRC, package_root / "shortthehype", ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(
        PYTHONPATH=str(package_root),
        PYTHONDONTWRITEBYTECODE="1",
        SHORTTHEHYPE_CACHE_DIR=str(cache),
        NUMBA_DEBUG_CACHE="1",
    )
    first = _run_read_only(package_root, env)
    assert first.returncode == 0, first.stderr[-2000:]
    assert abs(float(first.stdout.strip().splitlines()[-1]) - (1.1 * 0.95 * 1.02 - 1)) < 1e-12
    index_files = list((cache / "numba").rglob("*.nbi"))
    assert index_files, "numba wrote no cache index under $SHORTTHEHYPE_CACHE_DIR/numba"
    assert not list((package_root / "shortthehype").rglob("*.nbi"))
    second = _run_read_only(package_root, env)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "data loaded from" in second.stdout + second.stderr  # numba's cache-hit trace


def test_python_dash_m_and_help_of_every_command():
    for args in (["--help"], ["data", "--help"], ["backtest", "--help"], ["strategies", "--help"], ["demo", "--help"], ["compare", "--help"], ["report", "--help"], ["bubble", "--help"], ["sweep", "--help"], ["walkforward", "--help"], ["results", "--help"]):
        completed = subprocess.run(
            [sys.executable, "-m", "shortthehype", *args], capture_output=True, text=True, timeout=120
        )
        assert completed.returncode == 0, (args, completed.stderr[-1500:])
        assert "Usage" in completed.stdout


def test_the_numba_cache_is_keyed_by_every_kernel_source(tmp_path, monkeypatch):
    """numba re-checks only a function's own file: any kernel change must start a fresh cache directory."""
    import shutil

    from shortthehype import _numba_setup

    core = tmp_path / "core"
    shutil.copytree(_numba_setup.PACKAGE_DIR / "core", core, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(_numba_setup, "PACKAGE_DIR", tmp_path)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("SHORTTHEHYPE_CACHE_DIR", str(tmp_path / "cache"))
    before = _numba_setup.kernel_fingerprint()
    assert _numba_setup.numba_cache_dir() == tmp_path / "cache" / "numba" / before
    with open(core / "metrics_nb.py", "a") as handle:  # a change in one file a kernel of another file calls
        handle.write("\n# changed\n")
    assert _numba_setup.kernel_fingerprint() != before
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "explicit"))
    assert _numba_setup.numba_cache_dir() == tmp_path / "explicit"


def _library_modules() -> list[str]:
    """Every module of the library proper: not the CLI, not the numba kernels (private behind their wrappers), not ``_private``."""
    names = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[0] in ("cli", "core") or any(p.startswith("_") and p != "__init__" for p in parts):
            continue
        if parts[-1] == "__init__":
            if not path.read_text(encoding="utf-8").strip():
                continue  # an empty package marker has no names
            parts = parts[:-1]
        names.append(".".join(("shortthehype", *parts)))
    return names


@pytest.mark.parametrize("module_name", _library_modules())
def test_every_library_module_has_a_curated_all(module_name):
    import importlib

    module = importlib.import_module(module_name)
    assert isinstance(getattr(module, "__all__", None), (list, tuple)), f"{module_name} has no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names {missing}, which it does not define"
    assert len(set(module.__all__)) == len(module.__all__), f"{module_name}.__all__ repeats a name"
