"""The layout promises: shared code never names a strategy kind, and modules import only their own layer or lower ones.

A strategy kind lives in its own module(s) under ``strategies/`` (its
report hooks in ``strategies/<kind>_report.py``); the runner, the report
package, the sweeps and the CLI reach it only through the registry
(:mod:`shortthehype.strategies.base`), so they never name one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import shortthehype
from shortthehype.strategies.base import BUILTIN_KINDS

SRC = Path(shortthehype.__file__).resolve().parent

#: Words that name a built-in kind or what only one kind is about (as ``grep -w`` finds them), and every
#: built-in kind's name and module name anywhere in a line (``python`` is too common a word to search for).
_NAMES = sorted({name for name in BUILTIN_KINDS if name != "python"} | set(BUILTIN_KINDS.values()), key=len, reverse=True)
KIND_WORDS = re.compile(
    r"(?i:(?<![A-Za-z0-9_])(dotcom|burry|basket|hype|ma_crossover|analog|nasdaq)(?![A-Za-z0-9_]))|" + "|".join(map(re.escape, _NAMES))
)
#: Shared code that must reach kinds through the registry only.
SHARED = ["runner.py", "documents.py", "report", "cli", "sweeps"]


def _files(entries: list[str]) -> list[Path]:
    files: list[Path] = []
    for entry in entries:
        path = SRC / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


@pytest.mark.parametrize("path", _files(SHARED), ids=lambda p: str(p.relative_to(SRC)))
def test_shared_code_names_no_strategy_kind(path):
    hits = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if KIND_WORDS.search(line)
    ]
    assert not hits, "kind-specific code outside strategies/ (move it behind a StrategyKind hook):\n" + "\n".join(hits)


def test_the_kind_word_check_finds_a_kind_name():
    """The check above can fail: it sees the names it looks for, and not the words around them."""
    assert KIND_WORDS.search('if run.spec.kind.name == "dotcom-analog":')
    assert KIND_WORDS.search("from shortthehype.strategies.ai_basket import basket_index")
    assert KIND_WORDS.search("kinds = ['fixed-weights']")
    assert not KIND_WORDS.search("BUBBLE_AI_BASKET = 'x'  # baskets of python files")


# ---- layers ---------------------------------------------------------------------------------------

#: Modules by layer, lowest first; a module imports (at module level) only its own layer or lower ones.
#: Report hooks of a kind (``strategies/<kind>_report.py``) belong to the report layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("errors", "constants", "enums", "caveats", "ranking", "files", "documents", "kept", "_numba_setup", "core",
                    "params", "schedule", "strategies.locations", "report.formatting", "report.assets")),
    ("data and numerics", ("data", "signals", "metrics", "overfitting", "factors", "lookahead", "option_pricing", "result",
                           "engine", "batch", "bootstrap", "baskets", "lppls", "fused")),
    ("strategies", ("strategies", "spec")),
    ("runs", ("runner", "studies", "study_windows", "sweeps", "walk_forward", "analysis", "bubble", "montecarlo", "demo",
              "precompile")),
    ("reports", ("report",)),
    ("command line", ("cli", "__main__")),
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    """The layer of a module name relative to the package (the longest matching prefix wins)."""
    if re.fullmatch(r"strategies\.\w+_report", module):
        return next(i for i, (name, _) in enumerate(LAYERS) if name == "reports")
    best, found = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    if found is None:
        raise AssertionError(f"module {module!r} is in no layer of tests/test_architecture.py: add it to LAYERS")
    return found


def _module_level_imports(path: Path) -> set[str]:
    """Package modules imported by top-level statements (outside ``if TYPE_CHECKING:``), relative names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("shortthehype."):
            module = node.module.removeprefix("shortthehype.")
            submodules = [f"{module}.{a.name}" for a in node.names if (SRC / f"{module}.{a.name}".replace(".", "/")).exists()
                          or (SRC / (f"{module}.{a.name}".replace(".", "/") + ".py")).exists()]
            out.update(submodules or [module])
        elif isinstance(node, ast.Import):
            out.update(a.name.removeprefix("shortthehype.") for a in node.names if a.name.startswith("shortthehype."))
    return out


LIBRARY = [p for p in sorted(SRC.rglob("*.py")) if _module_name(p) != ""]


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(SRC)))
def test_modules_import_only_their_layer_or_lower(path):
    module = _module_name(path)
    layer = _layer(module)
    upward = sorted(
        f"{name} ({LAYERS[_layer(name)][0]})" for name in _module_level_imports(path) if _layer(name) > layer
    )
    assert not upward, f"{module} ({LAYERS[layer][0]}) imports a higher layer: {', '.join(upward)}"


def test_the_layer_check_sees_an_upward_import(tmp_path):
    """A strategy module importing the runner is caught (the check can fail)."""
    bad = tmp_path / "bad.py"
    bad.write_text("from shortthehype.runner import backtest\nfrom shortthehype.strategies.base import register\n")
    assert _module_level_imports(bad) == {"runner", "strategies.base"}
    assert _layer("runner") > _layer("strategies.dotcom_analog") > _layer("baskets")
    assert _layer("strategies.dotcom_analog_report") == _layer("report.figures")


def test_library_code_never_imports_the_command_line():
    """Not even lazily: the CLI parses, calls the library and prints (the library never reaches back)."""
    offenders = []
    for path in LIBRARY:
        module = _module_name(path)
        if _layer(module) >= _layer("cli"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in getattr(node, "names", [])] if isinstance(node, ast.Import) else []
            offenders += [f"{module} imports {name}" for name in names if name == "shortthehype.cli" or name.startswith("shortthehype.cli.")]
    assert not offenders, "\n".join(offenders)
