"""Mutation harness: shows that the test suite can tell a right verdict from a wrong one.

Each mutant of :mod:`mutants` (a sign, a factor, a comparison, a branch, a constant, a dropped term) is
applied to a temporary copy of the working tree, never to the tree itself; the tests that should kill it
run there (``python -m pytest -q -x -p no:cacheprovider --hypothesis-seed=0 <kill set>``, cwd and
PYTHONPATH = the copy, so the copy's modules win over the editable install), then the file is restored from
its original bytes and the copy is checked, by hash, to be exactly the original again.

Every pytest run gets a fresh, empty hypothesis directory (``HYPOTHESIS_STORAGE_DIRECTORY``, a temporary
directory removed after the run, which ``hypothesis.configuration.storage_directory`` uses for the example
database and its caches instead of ``./.hypothesis``), so a kill never depends on what an earlier run stored;
a ``.hypothesis`` directory appearing in a copy is a harness error. Every run starts in its own session
(process group); on a timeout the whole group is killed, so the ``python -m verify`` processes some tests
start cannot outlive it (nor can they outlive a Ctrl-C or SIGTERM of the harness). The runs share the cores:
each gets cpu_count // jobs intra-op threads (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, unless already set).

Results: ``killed`` (pytest exit 1: a test failed; or exit 2/3, a collection/internal error, when its
output names the mutated file: the kill set passed on the unmutated copy, so that error can only come
from the mutant), ``survived`` (exit 0), ``timeout``, ``error`` (anything else: exit 4/5, a missing
snippet: a harness error, never a kill). Before any mutant, every distinct kill set runs on the unmutated
copies exactly as a mutant's run does (same groups, same flags, ``-x``, same timeout), in parallel over
the jobs, and must pass: otherwise there is no score, and the error names the failing kill set(s).

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
import signal
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
HYPOTHESIS_DIR = ".hypothesis"      # where hypothesis would store its database without HYPOTHESIS_STORAGE_DIRECTORY


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


#: intra-op threads of each run: the cores shared among the parallel runs (set by :func:`run`); None leaves them
_THREADS: list = [None]
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def threads_per_run(jobs: int) -> int:
    """The cores divided among ``jobs`` runs (at least 1): two torch runs each spinning 2 OpenMP threads on 2 cores
    were measured > 30x slower (300 s timeouts for two 10 s kill sets)."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def env_for(copy: Path, cache: Path, hypothesis_dir: Path | None = None) -> dict:
    env = dict(os.environ)
    if _THREADS[0] is not None:
        for name in THREAD_VARIABLES:
            env.setdefault(name, str(_THREADS[0]))      # a caller's explicit choice wins
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["BETAVAE_CACHE"] = str(cache)
    # no .pyc in the copy: a restored file of the same size and mtime second must never reuse a mutant's bytecode
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    if hypothesis_dir is not None:
        # hypothesis (configuration.storage_directory) keeps its example database, its constants cache and its
        # failing-example patches under $HYPOTHESIS_STORAGE_DIRECTORY instead of ./.hypothesis: one fresh
        # directory per run, so nothing an earlier run stored can change what this one generates. (With
        # --hypothesis-seed, hypothesis 6.155 already skips the database for @given tests, not for find().)
        env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(hypothesis_dir)
    return env


def pytest_command(args, cache: Path, stop_first: bool = True) -> list[str]:
    # a fixed hypothesis seed: a kill (or a survival) is reproducible, not the luck of one run's examples
    return [sys.executable, "-m", "pytest", "-q", *(["-x"] if stop_first else []), "-p", "no:cacheprovider",
            "--hypothesis-seed=0", "--basetemp", str(cache / "pytest-tmp"), *args]


# the process groups of the runs in flight (killed on Ctrl-C / SIGTERM), and "start no new run"
_LIVE: set = set()
_LIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the run's process group (its session: pytest and whatever it started, e.g. ``python -m verify``)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):      # the group is gone already
        pass


def stop_all() -> None:
    """Kill every run in flight and refuse new ones (the harness is being interrupted)."""
    with _LIVE_LOCK:
        _STOPPING.set()
        for proc in list(_LIVE):
            _kill_group(proc)


def parallel_map(fn, items, workers: int) -> list:
    """``[fn(x) for x in items]`` on ``workers`` threads; on any exception (a harness error, Ctrl-C, SIGTERM) the
    items not started are dropped and the runs in flight are killed, so the pool's shutdown does not wait for
    them to finish."""
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        try:
            return list(ex.map(fn, items))
        except BaseException:
            ex.shutdown(wait=False, cancel_futures=True)
            stop_all()
            raise


def run_in_group(cmd, cwd: Path, env: dict, timeout: float):
    """(exit status or None on timeout, stdout and stderr together, seconds) of ``cmd`` run in its own session.

    On a timeout the whole process group is killed, not only ``cmd``: a child it started (which may hold the
    output pipe open) cannot outlive the run. Whatever is left of the group after a normal exit is killed too."""
    t0 = time.perf_counter()
    with _LIVE_LOCK:
        if _STOPPING.is_set():
            raise HarnessError("interrupted")
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
        _LIVE.add(proc)
    try:
        try:
            out, _ = proc.communicate(timeout=timeout)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            # pytest itself may have exited with a straggler of its group holding the pipe: then its status counts
            status = proc.poll()
            _kill_group(proc)
            try:
                out, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:           # a process that left the group holds the pipe: stop reading
                proc.kill()
                proc.stdout.close()
                proc.wait()
                out = ""
    finally:
        # stragglers after a normal exit too (pytest is reaped by now, but while any member of its group lives the
        # group id is not reused; with none left, killpg finds no group)
        _kill_group(proc)
        with _LIVE_LOCK:
            _LIVE.discard(proc)
    return status, out or "", time.perf_counter() - t0


def run_pytest(copy: Path, args, timeout: float, cache: Path, stop_first: bool = True):
    """(exit status or None on timeout, output, seconds), with a fresh, empty hypothesis directory."""
    with tempfile.TemporaryDirectory(prefix="hypothesis-", dir=cache) as hyp:
        return run_in_group(pytest_command(args, cache, stop_first), copy, env_for(copy, cache, Path(hyp)), timeout)


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


def run_kill_set(copy: Path, kill, timeout: float, cache: Path):
    """Run a kill set the one way the harness ever runs one (a mutant's run and the baseline alike): its
    :func:`kill_groups` in order, each with ``-x``, stopping at the first that does not pass.
    Returns (exit status: 0 when every group passed, None on a timeout; output; the group's arguments)."""
    status, out, args = 0, "", []
    for args in kill_groups(kill):
        status, out, _ = run_pytest(copy, args, timeout, cache)
        if status != 0:
            break
    return status, out, args


def check_no_database(copy: Path) -> None:
    if (copy / HYPOTHESIS_DIR).exists():
        raise HarnessError(f"a run wrote {copy / HYPOTHESIS_DIR}: the hypothesis database is shared between runs "
                           f"(HYPOTHESIS_STORAGE_DIRECTORY not honoured?)")


def run_mutant(mutant, copy: Path, expected, timeout, cache: Path) -> dict:
    original = apply(copy, mutant)
    t0 = time.perf_counter()
    try:
        status, out, _ = run_kill_set(copy, mutant["kill"], timeout, cache)
    finally:
        restore(copy, mutant, original, expected)
    check_no_database(copy)
    return {"id": mutant["id"], "category": mutant["category"], "file": mutant["file"],
            "result": classify(status, out, mutant["file"]), "seconds": round(time.perf_counter() - t0, 1),
            "output": "\n".join(out.strip().splitlines()[-15:])}


def baseline(copies, cache: Path, selected, timeout: float = DEFAULT_TIMEOUT) -> dict[tuple, float]:
    """Every distinct kill set passes on the unmutated copies, run exactly as a mutant's run runs it
    (:func:`run_kill_set`: same groups, same flags, ``-x``, same timeout), in parallel over the copies.
    Returns the seconds each kill set took."""
    users: dict[tuple, list[str]] = {}
    for m in selected:
        users.setdefault(tuple(m["kill"]), []).append(m["id"])
    pool = queue.Queue()
    for c in copies:
        pool.put(c)

    def one(kill):
        copy = pool.get()
        try:
            t0 = time.perf_counter()
            result = run_kill_set(copy, list(kill), timeout, cache / copy.name)
            check_no_database(copy)
            return (*result, time.perf_counter() - t0)
        finally:
            pool.put(copy)
    outcomes = parallel_map(one, users, len(copies))
    failures = []
    for kill, (status, out, args, _) in zip(users, outcomes):
        if status != 0:
            how = f"timed out after {timeout:g} s" if status is None else f"pytest exit {status}"
            tail = "\n".join("    " + line for line in out.strip().splitlines()[-20:])
            failures.append(f"kill set {list(kill)} (mutants {', '.join(users[kill])}) fails on the unmutated tree: "
                            f"{how} in `pytest -x {shlex.join(args)}`:\n{tail}")
    if failures:
        raise HarnessError(f"{len(failures)} of {len(users)} kill set(s) fail on the unmutated tree (run as each "
                           f"mutant's run runs them, with -x); no score:\n" + "\n".join(failures))
    return {kill: seconds for kill, (*_, seconds) in zip(users, outcomes)}


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


def run(selected, jobs: int, timeout: float, progress=None, note=None) -> tuple[list[dict], float]:
    """(the mutants' results, the baseline's seconds)."""
    _STOPPING.clear()
    try:
        return _run(selected, jobs, timeout, progress, note)
    except BaseException:
        stop_all()              # Ctrl-C / SIGTERM: the runs are in their own sessions and would not see the signal
        raise


def _run(selected, jobs, timeout, progress, note):
    files = tree_files()
    before = tree_hash(ROOT, files)
    with tempfile.TemporaryDirectory(prefix="betavae-mutation-") as tmp:
        tmp = Path(tmp)
        jobs = max(1, min(jobs, len(selected)))
        _THREADS[0] = threads_per_run(jobs)     # the baseline and every mutant run alike
        copies = [make_copy(files, tmp / f"copy{i}") for i in range(jobs)]
        expected = tree_hash(copies[0], files)
        for m in selected:                      # every snippet is there before anything runs
            text = (copies[0] / m["file"]).read_text() if (copies[0] / m["file"]).is_file() else ""
            if text.count(m["original"]) != 1:
                raise HarnessError(f"{m['id']}: the snippet occurs {text.count(m['original'])} times in {m['file']}")
        for c in copies:
            (tmp / "cache" / c.name).mkdir(parents=True)
        t0 = time.perf_counter()
        took = baseline(copies, tmp / "cache", selected, timeout)
        baseline_seconds = time.perf_counter() - t0
        if note:
            slowest = sorted(took.items(), key=lambda kv: -kv[1])[:3]
            note(f"baseline: each of the {len(took)} distinct kill sets passes on the unmutated copies, run as in "
                 f"a mutant's run ({baseline_seconds:.0f} s; {sum(took.values()):.0f} s of runs; slowest: "
                 + "; ".join(f"{s:.0f} s {' '.join(k)}" for k, s in slowest) + ")")
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
        results = parallel_map(one, selected, jobs)
    after = tree_hash(ROOT, files)
    changed = sorted(f for f in set(before) | set(after) if before.get(f) != after.get(f))
    if changed:
        raise HarnessError(f"the working tree {ROOT} changed during the run (the harness never writes there; "
                           f"another process did?): {changed[:10]}")
    return results, baseline_seconds


def summary(results, selected, baseline_seconds: float | None = None) -> dict:
    by_id = {m["id"]: m for m in selected}
    survivors = [{"id": r["id"], "file": r["file"], "description": by_id[r["id"]]["description"],
                  "why_equivalent": by_id[r["id"]]["why_equivalent"], "result": r["result"]}
                 for r in results if r["result"] != "killed"]
    return {"mutants": len(results), "killed": sum(r["result"] == "killed" for r in results),
            "survivors": survivors,
            "unexplained": sum(1 for s in survivors if not (s["result"] == "survived" and s["why_equivalent"])),
            "baseline_seconds": None if baseline_seconds is None else round(baseline_seconds, 1),
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

    def terminate(signum, frame):               # SIGTERM: end the runs in flight too (see run)
        raise SystemExit(128 + signum)
    previous = signal.signal(signal.SIGTERM, terminate) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        results, baseline_seconds = run(selected, args.jobs, args.timeout, progress, None if args.json else print)
    except HarnessError as err:
        print(f"harness error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted (the runs in flight were killed)", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    s = summary(results, selected, baseline_seconds)
    s["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        for v in s["survivors"]:
            print(f"survivor {v['id']} ({v['result']}): {v['description']}; "
                  f"{'equivalent: ' + v['why_equivalent'] if v['why_equivalent'] else 'NOT EXPLAINED'}")
        print(f"total {s['seconds']:.0f} s with {args.jobs} job(s), of which the baseline "
              f"{s['baseline_seconds']:.0f} s")
        print(f"mutation score: {s['killed']}/{s['mutants']} killed, {s['unexplained']} unexplained survivor(s)")
    return 0 if s["unexplained"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
