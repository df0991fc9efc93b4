"""Plumbing of the mutation harness (``tests/mutation.py``): the mutant list is well formed, a mutant applied to
the copy is what the copy's tests import, and restoring gives the original bytes back. These tests compare
the harness with itself and with the tree's files; the score itself comes from ``python tests/mutation.py``."""
import contextlib
import io
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import mutation as H
from mutants import CATEGORIES, MUTANTS

ROOT = Path(__file__).resolve().parents[1]


def test_plumbing_every_snippet_occurs_exactly_once_in_its_file():
    for m in MUTANTS:
        text = (ROOT / m["file"]).read_text()
        assert text.count(m["original"]) == 1, (m["id"], m["file"], text.count(m["original"]))
        assert m["replacement"] != m["original"], m["id"]


def test_plumbing_ids_unique_every_category_covered_and_at_least_40():
    ids = [m["id"] for m in MUTANTS]
    assert len(ids) == len(set(ids)) and len(ids) >= 40
    assert {m["category"] for m in MUTANTS} == set(CATEGORIES) and len(CATEGORIES) == 10
    for m in MUTANTS:
        assert m["description"] and m["kill"], m["id"]
        assert m["why_equivalent"] is None or len(m["why_equivalent"]) > 40, m["id"]


def test_plumbing_kill_sets_name_tests_that_exist():
    from verify.catalogue import ids as claim_ids
    claims = set(claim_ids())
    for m in MUTANTS:
        for entry in m["kill"]:
            path, _, rest = entry.partition(" -k ") if " -k " in entry else entry.partition("::")
            assert (ROOT / path).is_file(), (m["id"], entry)
            if "::" in entry:
                name, _, param = rest.partition("[")
                assert re.search(rf"^def {re.escape(name)}\(", (ROOT / path).read_text(), re.M), (m["id"], entry)
                if name == "test_claim":
                    assert param.rstrip("]") in claims, (m["id"], entry)


def test_plumbing_a_mutant_in_the_copy_is_what_gets_imported_and_restoring_gives_the_original(tmp_path):
    files = H.tree_files()
    copy = H.make_copy(files, tmp_path / "copy")
    expected = H.tree_hash(copy, files)
    assert expected == {f: h for f, h in H.tree_hash(ROOT, files).items()}
    marker = {"id": "marker", "file": "numerics/problems.py", "original": "class ProblemError(InputError):",
              "replacement": 'MUTATION_MARKER = "copy"\n\n\nclass ProblemError(InputError):'}
    original = H.apply(copy, marker)
    (tmp_path / "cache").mkdir()
    out = subprocess.run([sys.executable, "-c", "import numerics.problems as p; print(p.__file__, p.MUTATION_MARKER)"],
                         cwd=tmp_path, env=H.env_for(copy, tmp_path / "cache", tmp_path / "hyp"), capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(copy / "numerics" / "problems.py"), "copy"]
    H.restore(copy, marker, original, expected)
    assert H.tree_hash(copy, files) == expected
    (copy / "numerics" / "optimum.py").write_text("changed behind the harness's back")
    with pytest.raises(H.HarnessError, match="differs from the original"):
        H.restore(copy, marker, original, expected)


def test_plumbing_a_missing_or_repeated_snippet_is_a_harness_error(tmp_path):
    (tmp_path / "m.py").write_text("a = 1\na = 1\n")
    for snippet in ("b = 2", "a = 1"):
        with pytest.raises(H.HarnessError, match="occurs"):
            H.apply(tmp_path, {"id": "x", "file": "m.py", "original": snippet, "replacement": ""})
    assert (tmp_path / "m.py").read_text() == "a = 1\na = 1\n"


def test_plumbing_exit_statuses_are_classified():
    f = "numerics/optimum.py"
    assert H.classify(1, "", f) == "killed" and H.classify(0, "", f) == "survived"
    assert H.classify(None, "", f) == "timeout"
    assert H.classify(2, f"E   File \"{f}\", line 3\nSyntaxError: invalid syntax", f) == "killed"
    assert H.classify(2, "ERROR collecting tests/test_x.py: ImportError in another file", f) == "error"
    assert H.classify(4, "ERROR: not found", f) == "error" and H.classify(5, "no tests ran", f) == "error"


def test_plumbing_kill_groups_keep_node_ids_together_and_k_expressions_apart():
    assert H.kill_groups(["tests/a.py::t1", "tests/b.py -k 'x or y'", "tests/c.py::t2"]) == [
        ["tests/a.py::t1", "tests/c.py::t2"], ["tests/b.py", "-k", "x or y"]]


@pytest.mark.parametrize("argv,flag", [(["--jobs", "x"], "--jobs"), (["--jobs", "0"], "--jobs"),
                                       (["--only", "no-such-mutant"], "--only"), (["--timeout", "-1"], "--timeout"),
                                       (["--bogus"], "--bogus: unknown option"), (["--jobs"], "--jobs: expected")])
def test_plumbing_bad_usage_is_one_line_and_exit_2(argv, flag):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()) as out:
        assert H.main(argv) == 2
    assert err.getvalue().startswith("error: ") and flag in err.getvalue() and err.getvalue().count("\n") == 1
    assert out.getvalue() == ""


def test_plumbing_list_prints_every_mutant(capsys):
    assert H.main(["--list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(MUTANTS)


# ------------------------------------------------------------------ the baseline runs what a mutant's run runs
FAKE_MUTANTS = [
    {"id": "m1", "category": "c", "file": "m.py", "original": "a = 1", "replacement": "a = 2",
     "kill": ["tests/a.py::t1", "tests/b.py -k 'x or y'", "tests/c.py::t2"]},
    {"id": "m2", "category": "c", "file": "m.py", "original": "a = 1", "replacement": "a = 3",
     "kill": ["tests/a.py::t1", "tests/b.py -k 'x or y'", "tests/c.py::t2"]},
    {"id": "m3", "category": "c", "file": "m.py", "original": "a = 1", "replacement": "a = 4",
     "kill": ["tests/c.py::t2"]},
]


def _recording(monkeypatch, failing=()):
    """Replace run_pytest by a recorder: (copy, args, timeout, stop_first) per call; ``failing`` args exit 1."""
    calls = []

    def fake(copy, args, timeout, cache, stop_first=True):
        calls.append((copy.name, list(args), timeout, stop_first))
        return (1 if list(args) in failing else 0), "1 failed" if list(args) in failing else "ok", 0.0
    monkeypatch.setattr(H, "run_pytest", fake)
    return calls


def test_plumbing_the_baseline_runs_each_distinct_kill_set_as_a_mutant_run_does(tmp_path, monkeypatch):
    copies = []
    for name in ("copy0", "copy1"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "m.py").write_text("a = 1\n")
        (tmp_path / "cache" / name).mkdir(parents=True)
        copies.append(tmp_path / name)
    calls = _recording(monkeypatch)
    H.baseline(copies, tmp_path / "cache", FAKE_MUTANTS, timeout=7)
    base = sorted((tuple(args), timeout, stop_first) for _, args, timeout, stop_first in calls)
    calls.clear()
    expected = H.tree_hash(copies[0], ["m.py"])
    for m in FAKE_MUTANTS:
        assert H.run_mutant(m, copies[0], expected, 7, tmp_path / "cache" / "copy0")["result"] == "survived"
    mutant_runs = sorted((tuple(args), timeout, stop_first) for _, args, timeout, stop_first in calls)
    # the baseline's pytest runs are the mutants' runs (same arguments, -x, timeout), once per distinct kill set:
    # m1 and m2 share theirs (a node-id group and a -k group), m3 has one node id
    assert sorted(set(mutant_runs)) == base and len(base) == 3 and len(mutant_runs) == 5
    assert all(stop_first for _, _, stop_first in base) and {timeout for _, timeout, _ in base} == {7}


def test_plumbing_a_kill_set_failing_unmutated_is_a_harness_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / "copy0").mkdir()
    (tmp_path / "cache" / "copy0").mkdir(parents=True)
    _recording(monkeypatch, failing=[["tests/a.py::t1", "tests/c.py::t2"]])
    with pytest.raises(H.HarnessError) as err:
        H.baseline([tmp_path / "copy0"], tmp_path / "cache", FAKE_MUTANTS, timeout=7)
    message = str(err.value)
    assert "1 of 2 kill set(s)" in message and "mutants m1, m2" in message and "tests/b.py -k 'x or y'" in message
    assert "pytest exit 1" in message and "m3" not in message


# ------------------------------------------------------------------ a fresh hypothesis database per run
HYPOTHESIS_TEST = textwrap.dedent("""
    import os
    from pathlib import Path
    from hypothesis import given, settings, strategies as st

    @settings(max_examples=20, deadline=None)
    @given(st.integers(0, 100))
    def test_fails(n):
        assert n < 10

    def test_where_hypothesis_stores():
        from hypothesis.configuration import storage_directory
        home = Path(os.environ["HYPOTHESIS_STORAGE_DIRECTORY"])
        print("HOME", home, "HYPOTHESIS", storage_directory("examples", intent_to_write=False).path.parent)
""")


def test_plumbing_every_run_gets_a_fresh_empty_hypothesis_database(tmp_path, monkeypatch):
    """What hypothesis stores (its example database; here, at the end of the session, the failing test's patch,
    which without the variable lands in ./.hypothesis/patches) goes to the run's own directory, removed
    afterwards, never to the copy; the next run gets another directory, empty when it starts."""
    copy, cache = tmp_path / "copy", tmp_path / "cache"
    copy.mkdir()
    cache.mkdir()
    (copy / "test_fake.py").write_text(HYPOTHESIS_TEST)
    status, out, _ = H.run_pytest(copy, ["-s", "test_fake.py"], 60, cache, stop_first=False)
    assert status == 1 and "1 failed, 1 passed" in out, out
    home, used = re.search(r"HOME (\S+) HYPOTHESIS (\S+)", out).groups()
    assert Path(home).parent == cache and used == home, out          # hypothesis honours the variable
    assert not Path(home).exists() and not (copy / ".hypothesis").exists()
    seen = []

    def record(cmd, cwd, env, timeout):
        where = Path(env["HYPOTHESIS_STORAGE_DIRECTORY"])
        seen.append((where, where.is_dir() and not any(where.iterdir())))
        return 0, "", 0.0
    monkeypatch.setattr(H, "run_in_group", record)
    for _ in range(2):
        H.run_pytest(copy, ["test_fake.py"], 60, cache)
    assert [empty for _, empty in seen] == [True, True] and len({str(w) for w, _ in seen} | {home}) == 3
    assert not any(w.exists() for w, _ in seen)


# ------------------------------------------------------------------ a timeout kills the whole process group
SPAWNER = textwrap.dedent("""
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])   # inherits the output pipe
    print("CHILD", child.pid, flush=True)
    time.sleep(60)
""")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_plumbing_a_timeout_kills_the_runs_process_group_with_its_children(tmp_path):
    """The run starts a child that holds the output pipe and sleeps: on the timeout both go, and the harness
    does not wait for the child (killing only the direct process would leave it running and the pipe open)."""
    t0 = time.perf_counter()
    status, out, _ = H.run_in_group([sys.executable, "-c", SPAWNER], tmp_path, dict(os.environ), timeout=1.0)
    assert status is None and time.perf_counter() - t0 < 20, out
    child = int(re.search(r"CHILD (\d+)", out).group(1))
    deadline = time.perf_counter() + 5
    while _alive(child) and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert not _alive(child)
    assert not H._LIVE


def test_plumbing_parallel_runs_share_the_cores_and_an_explicit_thread_count_wins(monkeypatch, tmp_path):
    """Two torch kill sets on 2 cores, each spinning 2 OpenMP threads, timed out at 300 s where one alone took 10 s:
    each run gets cpu_count // jobs threads, unless the caller set the variable."""
    monkeypatch.setattr(H.os, "cpu_count", lambda: 8)
    assert (H.threads_per_run(1), H.threads_per_run(2), H.threads_per_run(16)) == (8, 4, 1)
    monkeypatch.setattr(H, "_THREADS", [3])
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "5")
    env = H.env_for(tmp_path, tmp_path)
    assert env["OMP_NUM_THREADS"] == "3" and env["MKL_NUM_THREADS"] == "5"
