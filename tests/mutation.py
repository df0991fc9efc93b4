"""Mutation harness: shows that the test suite can tell a right verdict from a wrong one.

Each mutant of :mod:`mutants` (a sign, a factor, a comparison, a branch, a constant, a dropped term) is
applied to a temporary copy of the working tree, never to the tree itself; the tests that should kill it
run there (``python -m pytest -q -x -p no:cacheprovider <kill set>``, cwd and PYTHONPATH = the copy, so
the copy's modules win over the editable install), then the file is restored from its original bytes and
the copy is checked, by hash, to be exactly the original again.

Results: ``killed`` (pytest exit 1: a test failed; or exit 2/3, a collection/internal error, when its
output names the mutated file: the kill set passed on the unmutated copy, so that error can only come
from the mutant), ``survived`` (exit 0), ``timeout``, ``error`` (anything else: exit 4/5, a missing
snippet: a harness error, never a kill). Before any mutant, every kill set runs on the unmutated copy and
must pass, otherwise there is no score.

    python tests/mutation.py [--jobs 2] [--only ID,...] [--list] [--json] [--timeout S]

Exit 0 when every mutant is killed or explained (``why_equivalent``), 1 otherwise (or on a harness
error), 2 on bad usage (one line on stderr).

>>> classify(1, "", "numerics/optimum.py"), classify(0, "", "numerics/optimum.py")
('killed', 'survived')
>>> classify(5, "no tests ran", "numerics/optimum.py")
'error'
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import queue
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants import MUTANTS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TIMEOUT = 300
BASELINE_TIMEOUT = 900


class HarnessError(RuntimeError):
    """The harness cannot give a score (a snippet is missing, a kill set fails unmutated, a tree changed)."""


class UsageError(ValueError):
    pass


# ------------------------------------------------------------------------------ the tree and its copies
def tree_files(root: Path = ROOT) -> list[str]:
    """Tracked and untracked-not-ignored files (what a checkout of the working tree holds)."""
    out = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=root, capture_output=True,
                         check=True).stdout.decode()
    return sorted({f for f in out.split("\0") if f and (root / f).is_file()})


def tree_hash(root: Path, files) -> dict[str, str]:
    return {f: hashlib.sha256((root / f).read_bytes()).hexdigest() for f in files if (root / f).is_file()}


def make_copy(files, dest: Path, root: Path = ROOT) -> Path:
    for f in files:
        target = dest / f
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / f, target)
    return dest


def apply(copy: Path, mutant: dict) -> bytes:
    """Write the mutated file into ``copy``; return the original bytes (for :func:`restore`)."""
    path = copy / mutant["file"]
    if not path.is_file():
        raise HarnessError(f"{mutant['id']}: {mutant['file']} does not exist")
    original = path.read_bytes()
    text = original.decode()
    n = text.count(mutant["original"])
    if n != 1:
        raise HarnessError(f"{mutant['id']}: the snippet occurs {n} times in {mutant['file']} (must be once)")
    path.write_bytes(text.replace(mutant["original"], mutant["replacement"]).encode())
    return original


def restore(copy: Path, mutant: dict, original: bytes, expected: dict[str, str]) -> None:
    (copy / mutant["file"]).write_bytes(original)
    now = tree_hash(copy, expected)
    changed = sorted(f for f in expected if now.get(f) != expected[f])
    if changed:
        raise HarnessError(f"{mutant['id']}: the copy differs from the original after restoring: {changed[:5]}")


# ------------------------------------------------------------------------------ running tests
def kill_groups(kill) -> list[list[str]]:
    """pytest argument lists: every node id in one run, each ``file -k expr`` entry in its own."""
    nodes = [k for k in kill if " -k " not in k]
    return ([nodes] if nodes else []) + [shlex.split(k) for k in kill if " -k " in k]


def env_for(copy: Path, cache: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["BETAVAE_CACHE"] = str(cache)
    # no .pyc in the copy: a restored file of the same size and mtime second must never reuse a mutant's bytecode
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run_pytest(copy: Path, args, timeout: float, cache: Path, stop_first: bool = True):
    """(exit status or None on timeout, output, seconds)."""
    # a fixed hypothesis seed: a kill (or a survival) is reproducible, not the luck of one run's examples
    cmd = [sys.executable, "-m", "pytest", "-q", *(["-x"] if stop_first else []), "-p", "no:cacheprovider",
           "--hypothesis-seed=0", "--basetemp", str(cache / "pytest-tmp"), *args]
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=copy, env=env_for(copy, cache), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as err:
        out = (err.stdout or b"").decode(errors="replace") if isinstance(err.stdout, bytes) else (err.stdout or "")
        return None, out, time.perf_counter() - t0
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - t0


def classify(status, output: str, mutated_file: str) -> str:
    """killed | survived | timeout | error (see the module docstring)."""
    if status is None:
        return "timeout"
    if status == 0:
        return "survived"
    if status == 1:
        return "killed"
    if status in (2, 3) and mutated_file in output and "Error" in output:
        return "killed"
    return "error"


def run_mutant(mutant, copy: Path, expected, timeout, cache: Path) -> dict:
    original = apply(copy, mutant)
    t0 = time.perf_counter()
    result, tail = "survived", ""
    try:
        for args in kill_groups(mutant["kill"]):
            status, out, _ = run_pytest(copy, args, timeout, cache)
            result = classify(status, out, mutant["file"])
            tail = "\n".join(out.strip().splitlines()[-15:])
            if result != "survived":
                break
    finally:
        restore(copy, mutant, original, expected)
    return {"id": mutant["id"], "category": mutant["category"], "file": mutant["file"], "result": result,
            "seconds": round(time.perf_counter() - t0, 1), "output": tail}


def baseline(copies, cache: Path, selected) -> None:
    """Every kill set passes on the unmutated copies (node ids together, split across the copies)."""
    nodes = sorted({k for m in selected for k in m["kill"] if " -k " not in k})
    runs = [nodes[i::len(copies)] for i in range(len(copies))]
    runs = [r for r in runs if r] + [shlex.split(k) for k in sorted({k for m in selected for k in m["kill"]
                                                                     if " -k " in k})]
    pool = queue.Queue()
    for c in copies:
        pool.put(c)

    def one(args):
        copy = pool.get()
        try:
            return args, run_pytest(copy, args, BASELINE_TIMEOUT, cache / copy.name, stop_first=False)
        finally:
            pool.put(copy)
    with concurrent.futures.ThreadPoolExecutor(len(copies)) as ex:
        for args, (status, out, _) in ex.map(one, runs):
            if status != 0:
                tail = "\n".join(out.strip().splitlines()[-25:])
                raise HarnessError(f"a kill set fails on the unmutated tree (pytest exit {status}):\n{tail}")


# ------------------------------------------------------------------------------ the command
def parse(argv):
    p = argparse.ArgumentParser(prog="python tests/mutation.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", default="2", help="mutants run in parallel, each in its own copy (default 2)")
    p.add_argument("--only", default=None, help="comma-separated mutant ids")
    p.add_argument("--list", action="store_true", help="list the mutants and exit")
    p.add_argument("--json", action="store_true", help='print {"mutants", "killed", "survivors", ...} as JSON')
    p.add_argument("--timeout", default=str(DEFAULT_TIMEOUT), help="seconds per mutant's test run")

    def error(message):                         # argparse's words -> "<option>: <problem>"
        if message.startswith("unrecognized arguments: "):
            raise UsageError(f"{message.split(': ', 1)[1].split()[0]}: unknown option")
        raise UsageError(message.removeprefix("argument "))
    p.error = error
    args = p.parse_args(argv)
    try:
        args.jobs = int(args.jobs)
    except ValueError:
        raise UsageError(f"--jobs: expected a positive integer, got '{args.jobs}'") from None
    if not 1 <= args.jobs <= 16:
        raise UsageError(f"--jobs: expected 1 to 16, got {args.jobs}")
    try:
        args.timeout = float(args.timeout)
    except ValueError:
        raise UsageError(f"--timeout: expected seconds, got '{args.timeout}'") from None
    if not 1 <= args.timeout <= 3600:
        raise UsageError(f"--timeout: expected 1 to 3600 seconds, got {args.timeout:g}")
    known = {m["id"] for m in MUTANTS}
    if args.only is not None:
        ids = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [i for i in ids if i not in known]
        if not ids or unknown:
            raise UsageError(f"--only: unknown mutant id '{unknown[0] if unknown else args.only}'")
        args.only = ids
    return args


def run(selected, jobs: int, timeout: float, progress=None, note=None) -> list[dict]:
    files = tree_files()
    before = tree_hash(ROOT, files)
    with tempfile.TemporaryDirectory(prefix="betavae-mutation-") as tmp:
        tmp = Path(tmp)
        jobs = max(1, min(jobs, len(selected)))
        copies = [make_copy(files, tmp / f"copy{i}") for i in range(jobs)]
        expected = tree_hash(copies[0], files)
        for m in selected:                      # every snippet is there before anything runs
            text = (copies[0] / m["file"]).read_text() if (copies[0] / m["file"]).is_file() else ""
            if text.count(m["original"]) != 1:
                raise HarnessError(f"{m['id']}: the snippet occurs {text.count(m['original'])} times in {m['file']}")
        for c in copies:
            (tmp / "cache" / c.name).mkdir(parents=True)
        t0 = time.perf_counter()
        baseline(copies, tmp / "cache", selected)
        if note:
            note(f"baseline: every kill set passes on the unmutated copy ({time.perf_counter() - t0:.0f} s)")
        pool = queue.Queue()
        for c in copies:
            pool.put(c)
        lock = threading.Lock()

        def one(m):
            copy = pool.get()
            try:
                r = run_mutant(m, copy, expected, timeout, tmp / "cache" / copy.name)
            finally:
                pool.put(copy)
            if progress:
                with lock:
                    progress(r)
            return r
        with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
            results = list(ex.map(one, selected))
    after = tree_hash(ROOT, files)
    changed = sorted(f for f in set(before) | set(after) if before.get(f) != after.get(f))
    if changed:
        raise HarnessError(f"the working tree {ROOT} changed during the run (the harness never writes there; "
                           f"another process did?): {changed[:10]}")
    return results


def summary(results, selected) -> dict:
    by_id = {m["id"]: m for m in selected}
    survivors = [{"id": r["id"], "file": r["file"], "description": by_id[r["id"]]["description"],
                  "why_equivalent": by_id[r["id"]]["why_equivalent"], "result": r["result"]}
                 for r in results if r["result"] != "killed"]
    return {"mutants": len(results), "killed": sum(r["result"] == "killed" for r in results),
            "survivors": survivors,
            "unexplained": sum(1 for s in survivors if not (s["result"] == "survived" and s["why_equivalent"])),
            "results": [{k: r[k] for k in ("id", "category", "file", "result", "seconds")} for r in results]}


def main(argv=None) -> int:
    try:
        args = parse(sys.argv[1:] if argv is None else argv)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    selected = [m for m in MUTANTS if args.only is None or m["id"] in args.only]
    if args.list:
        for m in selected:
            print(f"{m['id']:40} {m['category']:24} {m['file']:30} {m['description']}")
        return 0
    row = "{:40} {:24} {:30} {:9} {:>7}"

    def progress(r):
        if not args.json:
            print(row.format(r["id"], r["category"], r["file"], r["result"], f"{r['seconds']:.1f}"), flush=True)
            if r["result"] != "killed" and r["output"]:
                print("    " + r["output"].replace("\n", "\n    "), flush=True)
    t0 = time.perf_counter()
    if not args.json:
        print(row.format("id", "category", "file", "result", "seconds"), flush=True)
    try:
        results = run(selected, args.jobs, args.timeout, progress, None if args.json else print)
    except HarnessError as err:
        print(f"harness error: {err}", file=sys.stderr)
        return 1
    s = summary(results, selected)
    s["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        for v in s["survivors"]:
            print(f"survivor {v['id']} ({v['result']}): {v['description']}; "
                  f"{'equivalent: ' + v['why_equivalent'] if v['why_equivalent'] else 'NOT EXPLAINED'}")
        print(f"total {s['seconds']:.0f} s with {args.jobs} job(s)")
        print(f"mutation score: {s['killed']}/{s['mutants']} killed, {s['unexplained']} unexplained survivor(s)")
    return 0 if s["unexplained"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
