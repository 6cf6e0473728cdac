"""Fault injection, bounded in time: kill -9 at random moments, a full disk, read-only places, concurrent readers.

Every scenario checks what a user relies on: each file reads back whole (the old version or the new
one, never a torn mix), a resumed sweep equals an uninterrupted one, a failed write is one line and
leaves the previous file intact, and no process outlives its parent.  Random moments come from a seeded
generator, so a failure can be replayed.  The full-disk and read-only cases run in a small tmpfs mounted
in a private mount namespace (``unshare``); where no tmpfs can be mounted they are skipped, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fixtures.data.tiny_prices import write_price_dir
from shortthehype.cli import main
from shortthehype.data.catalog import Catalog

REPO = Path(__file__).resolve().parents[1]
CLI = "import sys; from shortthehype.cli import main; sys.exit(main(sys.argv[1:]))"
ROUNDS = 6
RNG = np.random.default_rng(20261205)
SPEC = 'name = "spy"\nkind = "fixed-weights"\n[params]\nweights = { SPY = 1.0 }\nrebalance = "weekly"\n'


def _python(code: str, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, **kwargs,
    )


def _kill_after(process: subprocess.Popen, seconds: float, *, group: bool = False) -> None:
    time.sleep(seconds)
    if group:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()
    process.communicate(timeout=30)


# --------------------------------------------------------------------------- catalog imports killed at random


IMPORTER = """
import sys
from shortthehype.data.catalog import Catalog
catalog = Catalog(sys.argv[1])
print("ready", flush=True)
while True:
    for directory in sys.argv[2:]:
        catalog.import_csv_dir(directory)
"""


def test_catalog_imports_killed_at_random_points_leave_every_file_whole(tmp_path):
    tickers = {f"T{k}": 50.0 + 10 * k for k in range(6)}
    old = write_price_dir(tmp_path / "old", tickers)
    new = write_price_dir(tmp_path / "new", {t: 3 * b for t, b in tickers.items()}, n=320)
    catalog = Catalog(tmp_path / "catalog")
    catalog.import_csv_dir(old)
    versions = {t: (catalog.read(t)[0], None) for t in tickers}
    Catalog(tmp_path / "scratch").import_csv_dir(new)
    versions = {t: (versions[t][0], Catalog(tmp_path / "scratch").read(t)[0]) for t in tickers}
    for _ in range(ROUNDS):
        process = _python(IMPORTER, str(catalog.root), str(new), str(old))
        assert process.stdout.readline().strip() == "ready"
        _kill_after(process, float(RNG.uniform(0.05, 0.8)))
        seen = set()
        for ticker in tickers:  # every file is one whole version, never torn ...
            frame, _ = catalog.read(ticker)  # (the first read finishes the renames of a killed import)
            matches = [k for k, v in enumerate(versions[ticker]) if frame.equals(v)]
            assert matches, ticker
            seen.add(matches[0])
        assert len(seen) == 1, "... and all tickers are at the same version: an import is all or nothing"
        assert not list(catalog.root.glob(".import-*.journal"))
    catalog.import_csv_dir(old)  # the next writer removes what killed writers left
    assert not list(catalog.root.glob(".T*.tmp"))
    assert all(catalog.read(t)[0].equals(versions[t][0]) for t in tickers)


KILLED_BETWEEN_RENAMES = """
import os, signal, sys
from shortthehype.data.catalog import Catalog
real_replace, calls = os.replace, [0]

def dying_replace(src, dst):
    calls[0] += 1
    if calls[0] == 4:  # 1: the journal, 2 and 3: two tickers renamed; die before the third
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst)

os.replace = dying_replace
Catalog(sys.argv[1]).import_csv_dir(sys.argv[2])
"""


def test_an_import_killed_between_two_renames_is_completed_by_the_next_reader(tmp_path):
    tickers = {f"T{k}": 50.0 + 10 * k for k in range(5)}
    catalog = Catalog(tmp_path / "catalog")
    catalog.import_csv_dir(write_price_dir(tmp_path / "old", tickers))
    new = write_price_dir(tmp_path / "new", {t: 3 * b for t, b in tickers.items()}, n=320)
    process = _python(KILLED_BETWEEN_RENAMES, str(catalog.root), str(new))
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    journals = list(catalog.root.glob(".import-*.journal"))
    renamed = [t for t in tickers if len(pd.read_parquet(catalog.root / f"{t}.parquet")) == 320]
    assert len(journals) == 1 and renamed == ["T0", "T1"]  # mid-import: two new, three old, and the journal
    assert all(len(catalog.read(t)[0]) == 320 for t in tickers)  # the first read finishes the import
    assert not list(catalog.root.glob(".import-*")) and not list(catalog.root.glob(".T*.tmp"))


# --------------------------------------------------------------------------- report / JSON writes killed at random


WRITER = """
import json, sys
from shortthehype.files import write_atomically
documents = [json.dumps({"version": k, "values": list(range(200_000 + k))}) for k in (0, 1)]
print("ready", flush=True)
k = 0
while True:
    write_atomically(sys.argv[1], documents[k % 2], option="--json")
    k += 1
"""


def test_json_writes_killed_at_random_points_leave_a_whole_file(tmp_path):
    target = tmp_path / "bt.json"
    target.write_text(json.dumps({"version": 0, "values": list(range(200_000))}))
    for _ in range(ROUNDS):
        process = _python(WRITER, str(target))
        assert process.stdout.readline().strip() == "ready"
        _kill_after(process, float(RNG.uniform(0.01, 0.5)))
        document = json.loads(target.read_text())  # whole and valid, whichever version
        assert len(document["values"]) == 200_000 + document["version"]


# --------------------------------------------------------------------------- sweeps killed at random, then resumed


def _sweep_args(data: Path, spec: Path, fused: bool) -> list[str]:
    # seconds of chunks (each written as a part) after the first, so that the kill lands on a running sweep
    if fused:
        grid = ["ma-crossover", "--set", "ticker=SPY", "--set", "cash_rate=0", "--grid", "fast=2:40:1", "--grid", "slow=50:200:10", "--chunk-size", "4"]
    else:
        grid = [str(spec), "--grid", "weights.SPY=0.01:1:0.01", "--chunk-size", "1"]
    return ["sweep", *grid, "--source", "csv", "--data-dir", str(data), "--blocks", "4"]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


@pytest.mark.parametrize(
    "fused, group", [(False, False), (False, True), (True, False)], ids=["generic-kill-parent", "generic-kill-group", "fused"]
)
def test_sweeps_killed_mid_run_resume_to_the_uninterrupted_result(tmp_path, fused, group):
    from shortthehype.sweeps import load_sweep

    data = write_price_dir(tmp_path / "data", {"SPY": 100.0})
    spec = tmp_path / "spy.toml"
    spec.write_text(SPEC)
    args = _sweep_args(data, spec, fused)
    reference = tmp_path / "reference.parquet"
    assert main([*args, "--out", str(reference)]) == 0  # in this process: the table does not depend on the workers
    out = tmp_path / "r.parquet"
    parts = tmp_path / "r.parquet.parts"
    workers = [] if fused else ["--workers", "2"]
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, *args, *workers, "--out", str(out)], cwd=REPO, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not list(parts.glob("part-*.parquet")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(float(RNG.uniform(0.0, 0.05)))
    workers = _children(process.pid)
    assert fused or workers or process.poll() is not None, "the generic sweep runs its chunks in worker processes"
    if group:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()
    process.wait(timeout=30)
    deadline = time.monotonic() + 15  # workers notice their parent is gone within a second
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "worker processes outlived the killed sweep"
    if out.exists():  # it finished before the kill: nothing to resume
        pytest.skip("the sweep finished before it could be killed")
    assert main([*args, "--out", str(out), "--resume"]) == 0
    resumed, whole = load_sweep(out), load_sweep(reference)
    pd.testing.assert_frame_equal(resumed.table, whole.table)
    assert resumed.fingerprint == whole.fingerprint and not parts.exists()


def test_a_damaged_or_copied_part_is_recomputed_on_resume(tmp_path):
    from shortthehype.sweeps import load_sweep, sweep

    data = write_price_dir(tmp_path / "data", {"SPY": 100.0})
    grid = {"fast": "2:20:2", "slow": "30,60"}
    kwargs = {"source": "csv", "data_dir": data, "n_blocks": 4, "chunk_size": 4, "overrides": {"ticker": "SPY", "cash_rate": 0.0}}
    whole = sweep("ma-crossover", grid, **kwargs)
    out = tmp_path / "r.parquet"
    calls = []

    def stop_after_three(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep("ma-crossover", grid, out=out, progress=stop_after_three, **kwargs)
    parts = out.with_name(out.name + ".parts")
    shutil.copy(parts / "part-000000.parquet", parts / "part-000001.parquet")  # another chunk's rows
    shutil.copy(parts / "part-000000.npz", parts / "part-000001.npz")
    (parts / "part-000002.npz").write_bytes(b"")  # a truncated file
    resumed = sweep("ma-crossover", grid, out=out, resume=True, **kwargs)
    pd.testing.assert_frame_equal(resumed.table, whole.table)
    assert resumed.table["combination"].is_unique
    pd.testing.assert_frame_equal(load_sweep(out).table, whole.table)


class _InterruptsInItsFinalizer:
    """An object whose ``__del__`` receives Ctrl-C: Python prints "Exception ignored" and goes on."""

    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # bytecodes, during which Python runs the signal handler, inside this finalizer
            pass


def test_a_ctrl_c_python_loses_in_a_finalizer_still_stops_the_sweep(tmp_path):
    """Ctrl-C raised inside a finalizer (numba's compiler runs many) is lost to the code that was running; the sweep
    remembers it and stops after the chunk in which it came, its finished chunks kept for --resume."""
    import gc

    from shortthehype.sweeps import sweep

    data = write_price_dir(tmp_path / "data", {"SPY": 100.0})
    grid = {"fast": "2:20:2", "slow": "30,60"}
    kwargs = {"source": "csv", "data_dir": data, "n_blocks": 0, "chunk_size": 4, "overrides": {"ticker": "SPY", "cash_rate": 0.0}}
    calls = []

    def interrupt_during_the_second_chunk(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            _InterruptsInItsFinalizer()  # dropped at once: its __del__ runs here
            gc.collect()

    handler, unraisable_hook = signal.getsignal(signal.SIGINT), sys.unraisablehook
    lost = []
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (a background test run ignores it)
    sys.unraisablehook = lambda unraisable: lost.append(unraisable.exc_type)
    try:
        with pytest.raises(KeyboardInterrupt):
            sweep("ma-crossover", grid, out=tmp_path / "r.parquet", progress=interrupt_during_the_second_chunk, **kwargs)
    finally:
        signal.signal(signal.SIGINT, handler)
        sys.unraisablehook = unraisable_hook
    assert lost == [KeyboardInterrupt]  # the interrupt really was lost where it landed
    assert len(calls) == 2  # the chunk after it never ran
    assert len(list((tmp_path / "r.parquet.parts").glob("part-*.parquet"))) == 1
    assert signal.getsignal(signal.SIGINT) is handler


def test_resume_ignores_a_different_default_chunk_size(tmp_path):
    """The fingerprint holds what decides the rows, not the chunking: a resume reuses the stored chunk size."""
    from shortthehype.sweeps import sweep

    data = write_price_dir(tmp_path / "data", {"SPY": 100.0})
    grid = {"fast": "2:20:2", "slow": "30,60"}
    kwargs = {"source": "csv", "data_dir": data, "n_blocks": 0, "overrides": {"ticker": "SPY", "cash_rate": 0.0}}
    out = tmp_path / "r.parquet"
    calls = []

    def stop(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep("ma-crossover", grid, out=out, chunk_size=3, progress=stop, **kwargs)
    resumed = sweep("ma-crossover", grid, out=out, resume=True, chunk_size=5, **kwargs)  # e.g. a busier machine
    pd.testing.assert_frame_equal(resumed.table, sweep("ma-crossover", grid, **kwargs).table)


def test_the_losing_process_of_two_concurrent_sweeps_gets_one_line(tmp_path, capsys):
    import filelock

    data = write_price_dir(tmp_path / "data", {"SPY": 100.0})
    out = tmp_path / "r.parquet"
    with filelock.FileLock(out.with_name(out.name + ".parts.lock")):  # another process is running this sweep
        code = main(["sweep", "ma-crossover", "--set", "ticker=SPY", "--set", "cash_rate=0", "--grid", "fast=2,3", "--source", "csv",
                     "--data-dir", str(data), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "another process is running this sweep" in err


# --------------------------------------------------------------------------- concurrent readers and writers


REWRITER = """
import sys
import pandas as pd
from shortthehype.data.catalog import Catalog
catalog = Catalog(sys.argv[1])
frames = [catalog.read(t)[0] for t in ("AAA", "BBB")]
print("ready", flush=True)
for k in range(int(sys.argv[2])):
    catalog.write("AAA", frames[k % 2], source="csv", requested_start=None)
"""


def test_readers_never_fail_while_a_writer_replaces_the_file(tmp_path):
    catalog = Catalog(tmp_path / "catalog")
    catalog.import_csv_dir(write_price_dir(tmp_path / "csv", {"AAA": 10.0, "BBB": 500.0}))
    versions = [catalog.read("AAA")[0], catalog.read("BBB")[0]]
    writers = [_python(REWRITER, str(catalog.root), "60") for _ in range(2)]  # two writers, one lock
    for writer in writers:
        assert writer.stdout.readline().strip() == "ready"
    reads = 0
    while any(w.poll() is None for w in writers) or reads < 20:
        frame, _ = catalog.read("AAA")
        assert frame.equals(versions[0]) or frame.equals(versions[1])
        reads += 1
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
    assert reads >= 20


# --------------------------------------------------------------------------- a full disk and read-only places


FULL_DISK = """
import json, os, sys
from pathlib import Path
from shortthehype.cli import main

mount, data, spec = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
results = {}
D = ["--source", "csv", "--data-dir", data]


def run(name, argv):
    import io, contextlib
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        from shortthehype import cli
        cli.err_console.file = err
        code = main(argv)
    results[name] = {"code": code, "err": err.getvalue()}


def fill():
    fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"x" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)

# a valid previous result, then a full disk
run("first-json", ["backtest", spec, *D, "--json", str(mount / "bt.json")])
before = (mount / "bt.json").read_bytes()
import shutil
shutil.copytree(sys.argv[4], mount / "catalog")
fill()
run("json-full", ["backtest", spec, *D, "--json", str(mount / "bt.json")])
results["json-intact"] = (mount / "bt.json").read_bytes() == before
run("report-full", ["backtest", spec, *D, "--report", str(mount / "r.html")])
run("import-full", ["data", "import", sys.argv[5], "--cache-dir", str(mount / "catalog")])
from shortthehype.data.catalog import Catalog
results["catalog-intact"] = Catalog(mount / "catalog").tickers() == ["AAA"] and len(Catalog(mount / "catalog").read("AAA")[0]) == 30
run("sweep-full", ["sweep", spec, "--grid", "weights.SPY=0.5,1", *D, "--out", str(mount / "s.parquet"), "--blocks", "0"])
results["leftovers"] = sorted(str(p.relative_to(mount)) for p in mount.rglob("*") if ".tmp" in p.name)
(mount / "filler").unlink()
run("sweep-after-space", ["sweep", spec, "--grid", "weights.SPY=0.5,1", *D, "--out", str(mount / "s.parquet"), "--blocks", "0", "--resume"])
results["sweep-file"] = (mount / "s.parquet").is_file()
# read-only
os.system(f"mount -o remount,ro {mount}")
run("json-readonly", ["backtest", spec, *D, "--json", str(mount / "x.json")])
run("png-readonly", ["backtest", spec, *D, "--png", str(mount / "figs")])
run("out-readonly", ["sweep", spec, "--grid", "weights.SPY=0.5,1", *D, "--out", str(mount / "t.parquet")])
run("import-readonly", ["data", "import", sys.argv[5], "--cache-dir", str(mount / "catalog")])
print(json.dumps(results))
"""


def _in_small_tmpfs(tmp_path: Path, script: str, *args: str, size: str = "2m") -> dict:
    """Run ``script`` with a ``size`` tmpfs mounted at its first argument, in a private mount namespace."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    code_file = tmp_path / "scenario.py"
    code_file.write_text(textwrap.dedent(script))
    inner = f"mount -t tmpfs -o size={size} tmpfs {mount} || exit 97; exec {sys.executable} {code_file} {mount} " + " ".join(args)
    attempts = [["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", inner]]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        attempts.insert(0, ["unshare", "--mount", "sh", "-c", inner])
    if shutil.which("unshare") is None:
        pytest.skip("no `unshare` command: a size-limited tmpfs cannot be mounted for the full-disk cases")
    failures = []
    for command in attempts:
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
        if result.returncode == 0 and result.stdout.strip():
            return json.loads(result.stdout.strip().splitlines()[-1])
        if result.returncode != 97 and "unshare" not in result.stderr:  # the scenario itself failed
            raise AssertionError(result.stderr)
        failures.append(" ".join(result.stderr.split())[-200:])
    pytest.skip(f"cannot mount a tmpfs in a private mount namespace here ({failures}): full-disk cases not run")


def _one_line_error(record: dict, *words: str) -> None:
    lines = [line for line in record["err"].splitlines() if line.strip()]
    assert record["code"] == 1, record
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in record["err"], record
    for word in words:
        assert word in lines[0], record


def test_full_disk_and_read_only_places_are_one_line_and_keep_the_previous_files(tmp_path):
    data = write_price_dir(tmp_path / "data", {"SPY": 100.0}, n=600)
    spec = tmp_path / "spy.toml"
    spec.write_text(SPEC)
    catalog = Catalog(tmp_path / "catalog")
    catalog.import_csv_dir(write_price_dir(tmp_path / "small", {"AAA": 10.0}, n=30))
    big = write_price_dir(tmp_path / "big", {f"B{k}": 10.0 + k for k in range(40)}, n=3000)
    results = _in_small_tmpfs(tmp_path, FULL_DISK, str(data), str(spec), str(catalog.root), str(big))
    assert results["first-json"]["code"] == 0
    _one_line_error(results["json-full"], "--json", "bt.json", "No space left on device")
    assert results["json-intact"], "the previous bt.json must be unchanged"
    _one_line_error(results["report-full"], "r.html")
    _one_line_error(results["import-full"], "catalog", "No space left on device")
    assert results["catalog-intact"], "a failed import leaves the catalog as it was"
    _one_line_error(results["sweep-full"], "s.parquet")
    assert results["leftovers"] == [], "no temporary file is left behind"
    assert results["sweep-after-space"]["code"] == 0 and results["sweep-file"]
    _one_line_error(results["json-readonly"], "--json", "x.json")
    _one_line_error(results["png-readonly"], "--png", "figs")
    _one_line_error(results["out-readonly"], "--out", "t.parquet")
    _one_line_error(results["import-readonly"], "catalog")


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_sweep_workers_die_with_their_parent(tmp_path, shared_prices_dir, executor):
    """kill -9 of a sweep leaves no worker process behind: local processes watch their parent, dask's nannies too."""
    import psutil

    args = [sys.executable, "-m", "shortthehype", "sweep", "sixty-forty", "--grid", "weights.SPY=0.01:30:0.01",
            "--path", "generic", "--workers", "2", "--executor", executor, "--set", "cash_rate=0", "--source", "csv",
            "--data-dir", str(shared_prices_dir), "--out", str(tmp_path / "r.parquet")]
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as err:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 120
        workers: list = []
        while time.monotonic() < deadline and proc.poll() is None:
            workers = [c for c in parent.children(recursive=True) if "resource_tracker" not in " ".join(c.cmdline())]
            if len(workers) >= 2:
                break
            time.sleep(0.2)
        assert len(workers) >= 2, (
            f"the sweep never started its worker processes (exit code {proc.poll()}): "
            f"{stderr.read_text(errors='replace')[-2000:]}"
        )
        time.sleep(3)  # the workers are running chunks
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _, alive = psutil.wait_procs(workers, timeout=60)
        assert not alive, [p.cmdline() for p in alive]
    finally:
        if proc.poll() is None:
            proc.kill()
