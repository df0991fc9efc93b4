"""Plumbing of the mutation harness (``tests/mutation.py``): the mutant list is well formed, a mutant applied to
the copy is what the copy's tests import, and restoring gives the original bytes back. These tests compare
the harness with itself and with the tree's files; the score itself comes from ``python tests/mutation.py``."""
import contextlib
import io
import re
import subprocess
import sys
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
    marker = {"id": "marker", "file": "numerics/problems.py", "original": "class ProblemError(ValueError):",
              "replacement": 'MUTATION_MARKER = "copy"\n\n\nclass ProblemError(ValueError):'}
    original = H.apply(copy, marker)
    (tmp_path / "cache").mkdir()
    out = subprocess.run([sys.executable, "-c", "import numerics.problems as p; print(p.__file__, p.MUTATION_MARKER)"],
                         cwd=tmp_path, env=H.env_for(copy, tmp_path / "cache"), capture_output=True, text=True)
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
