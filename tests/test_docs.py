"""The documentation stays short, linked, complete and current.

* the README is the front door, not the house: at most ``README_MAX_LINES`` lines;
* docs/index.md links every page; every relative link of the README and the pages resolves to a file,
  and every ``#anchor`` to a heading of that file (GitHub's heading slugs);
* every CLI command and subcommand (read from the typer app itself) is named in the README or a page;
* every shipped spec and every kind they use is documented on a page, every statistic in docs/metrics.md;
* no internal process words (issue numbers, sessions, helpers) in user docs or the CLI's help;
* the parts of the pages generated from docstrings are current (``python docs/generate.py``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import tomllib
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BUILTIN_SPECS = ROOT / "strategies"  # shipped inside the package as its built-in specs (setup.py)

README_MAX_LINES = 350

#: Words about how the project is run, not about what it does.
INTERNAL_WORDS = re.compile(
    r"\bissues?\b|\bsessions?\b|\bhelpers?\b|\bthe lead\b|\b(?:this|next|last|previous|earlier|later) rounds?\b"
    r"|\brounds? \d",
    re.IGNORECASE,
)

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def doc_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def user_docs() -> list[Path]:
    return [README, *doc_pages(), RESULTS]


def prose(text: str) -> str:
    """Markdown without fenced code blocks (links and headings inside them are not links or headings)."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.replace("`", "").strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    counts: dict[str, int] = {}
    for heading in HEADING.findall(prose(path.read_text(encoding="utf-8"))):
        base = slug(heading)
        n = counts.get(base, 0)
        counts[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def broken_links(path: Path) -> list[str]:
    """The relative links of one Markdown file that do not resolve, as 'target (why)'."""
    broken = []
    for target in LINK.findall(CODE_SPAN.sub("", prose(path.read_text(encoding="utf-8")))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no heading #{anchor} in {dest.name})")
    return broken


def cli_commands() -> list[tuple[str, object]]:
    """Every command path of the CLI ("backtest", "data fetch", ...) with its click command, from the app."""
    import typer

    from shortthehype.cli import app, main

    with contextlib.redirect_stdout(io.StringIO()):
        main(["--help"])  # registers every command on the app, as a real run does
    root = typer.main.get_command(app)
    found: list[tuple[str, object]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            if getattr(sub, "hidden", False):
                continue
            found.append((" ".join((*path, name)), sub))
            walk(sub, (*path, name))

    walk(root, ())
    return sorted(found, key=lambda item: item[0])


def shipped_specs() -> dict[str, str]:
    """Spec name -> kind, for every built-in spec file."""
    specs = {}
    for path in sorted(BUILTIN_SPECS.glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        specs[str(raw.get("name", path.stem))] = str(raw["kind"])
    return specs


def load_generator():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the tests ------------------------------------------------------------------------------------


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES}): move details to docs/"


@pytest.mark.parametrize("path", [README, *doc_pages()], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    assert broken_links(path) == []


def test_link_checker_catches_a_broken_file_and_anchor(tmp_path):
    (tmp_path / "other.md").write_text("# A `code` heading: with punctuation!\n\n## Twice\n\n## Twice\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-code-heading-with-punctuation) [ok](other.md#twice-1) [web](https://x.org/y)\n"
        "[gone](missing.md) [bad](other.md#nothing) `[in code](nowhere.md)`\n"
        "```\n[fenced](nowhere.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page) == ["missing.md (no such file)", "other.md#nothing (no heading #nothing in other.md)"]


def test_every_cli_command_is_documented():
    commands = cli_commands()
    assert {"backtest", "sweep", "data fetch", "strategies show"} <= {path for path, _ in commands}
    text = "\n".join(p.read_text(encoding="utf-8") for p in [README, *doc_pages()])
    missing = [path for path, _ in commands if not re.search(rf"shortthehype {re.escape(path)}(?![\w-])", text)]
    assert missing == [], f"commands named nowhere in README.md or docs/ as `shortthehype <command>`: {missing}"


def test_every_shipped_spec_and_kind_is_documented():
    specs = shipped_specs()
    assert {"sixty-forty", "burry-puts", "ma-crossover"} <= set(specs)
    pages = "\n".join(p.read_text(encoding="utf-8") for p in doc_pages())
    strategy_pages = "\n".join(p.read_text(encoding="utf-8") for p in sorted((DOCS / "strategies").glob("*.md")))
    undocumented_specs = sorted(name for name in specs if f"`{name}`" not in pages)
    undocumented_kinds = sorted(
        kind for kind in set(specs.values()) if f"`{kind}`" not in strategy_pages and f'kind = "{kind}"' not in strategy_pages
    )
    assert undocumented_specs == [], f"shipped specs named on no docs/ page: {undocumented_specs}"
    assert undocumented_kinds == [], f"kinds named on no docs/strategies/ page: {undocumented_kinds}"


@pytest.mark.parametrize("path", user_docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_internal_words_in_user_docs(path):
    hits = [
        f"line {n}: {line.strip()}"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INTERNAL_WORDS.search(line)
    ]
    assert hits == []


def test_no_internal_words_in_cli_help():
    texts = []
    for path, command in cli_commands():
        texts.append((path, getattr(command, "help", None) or ""))
        for param in getattr(command, "params", []):
            texts.append((f"{path} {'/'.join(getattr(param, 'opts', []))}", getattr(param, "help", None) or ""))
    assert sum(bool(text) for _, text in texts) > 100  # commands and their options were read
    hits = [f"{where}: {text}" for where, text in texts if INTERNAL_WORDS.search(text)]
    assert hits == []


def test_internal_words_pattern():
    for text in ("see issue 13", "the issue's 1.3 ns", "this session", "a helper did it", "in the next round"):
        assert INTERNAL_WORDS.search(text), text
    for text in ("lead_days", "a round trip of costs", "round-off", "rounded", "lead 15 days", "a sessionless API"):
        assert not INTERNAL_WORDS.search(text), text


def test_generated_docs_are_current():
    generator = load_generator()
    assert generator.pages(), "no page has a generated part"
    stale = [str(p.relative_to(ROOT)) for p in generator.stale_pages()]
    assert stale == [], f"stale generated docs {stale}: run `python docs/generate.py`"


def test_generated_markdown_from_rest():
    generator = load_generator()
    doc = (
        "Title line with ``code`` and :func:`~pkg.mod.func`, :func:`pkg.other` and :mod:`pkg.core.kernel_nb`.\n\n"
        "Section\n-------\n* a bullet\n\n"
        "===== =========\nname  meaning\n===== =========\na     first ``x``\nb     second\n===== =========\n"
    )
    assert generator.markdown(doc) == (
        "Title line with `code` and `func`, `other` and `kernel_nb`.\n\n"
        "### Section\n* a bullet\n\n"
        "| name | meaning |\n|---|---|\n| a | first `x` |\n| b | second |\n"
    )


def test_every_statistic_is_documented():
    from shortthehype.constants import STATS_KEYS

    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    missing = [key for key in STATS_KEYS if not re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", text)]
    assert missing == [], f"statistics not named in docs/metrics.md: {missing}"


def test_index_links_every_page():
    index = DOCS / "index.md"
    linked = {
        (index.parent / target.partition("#")[0]).resolve()
        for target in LINK.findall(prose(index.read_text(encoding="utf-8")))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)
    }
    missing = [str(p.relative_to(ROOT)) for p in doc_pages() if p != index and p.resolve() not in linked]
    assert missing == [], f"pages not linked from docs/index.md: {missing}"


def test_the_table_of_when_parameters_apply_is_the_kinds_declarations():
    """docs/sweeps.md's table of the built-in ``applies`` declarations, row for row against the kinds' own."""
    from shortthehype.strategies.base import strategy_kinds

    text = (DOCS / "sweeps.md").read_text(encoding="utf-8")
    table = text[text.index("The built-in declarations:"):]
    documented = set()
    kind = None
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            if documented:
                break
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0].startswith("---") or cells[0] == "kind":
            continue
        kind = cells[0].strip("`") or kind
        conditions = frozenset(
            (name, value.lower()) for name, value in re.findall(r"`(\w+) = ([\w-]+)`", cells[2])
        )
        for name in re.findall(r"`(\w+)`", cells[1]):
            documented.add((kind, name, conditions))
    declared = {
        (name, param.name, frozenset((key, value.lower()) for key, values in param.applies for value in values))
        for name, kind_ in strategy_kinds().items()
        for param in kind_.params
        if param.applies
    }
    assert documented == declared, (sorted(declared - documented), sorted(documented - declared))
