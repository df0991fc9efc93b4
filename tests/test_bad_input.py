"""One error style for every command: hypothesis feeds malformed values and files to the parsers and the
matrix loaders and asserts exactly one line on stderr naming the argument, exit status 2, no traceback,
and nothing written."""
import math
import os
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


from cli_run import run_main


_run = run_main


def _assert_usage_error(argv, flag):
    status, out, err = _run(argv)
    assert status == 2, (argv, status, err)
    assert err.count("\n") == 1 and err.startswith(f"error: {flag}"), (argv, err)
    assert "Traceback" not in err and out == ""


def _is_valid_beta_list(text):
    try:
        values = [float(v) for v in text.split(",") if v.strip() != ""]
    except ValueError:
        return False
    return bool(values) and all(math.isfinite(v) and v >= 0 for v in values)   # 0: the limit beta -> 0+


@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(st.one_of(st.text(max_size=12), st.lists(st.sampled_from(["-1", "0", "nan", "inf", "x", "", "1e999", "-0"]),
                                                  min_size=1, max_size=3).map(",".join))
       .filter(lambda t: not _is_valid_beta_list(t) and not t.startswith("-") and "\x00" not in t))
def test_curve_betas(text):
    _assert_usage_error(["curve", "--betas", text], "--betas")


@given(st.text(max_size=12).filter(lambda t: not t.startswith("-") and "\x00" not in t))
def test_curve_grid(text):
    parts = text.split(":")
    try:
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        valid = len(parts) == 3 and 0 <= lo <= hi and math.isfinite(hi) and 1 <= n <= 1_000_000
    except (ValueError, IndexError):
        valid = False
    if not valid:
        _assert_usage_error(["curve", "--grid", text], "--grid")


@given(st.one_of(st.integers(-10**6, 0), st.integers(1001, 10**9)).map(str)
       | st.text(max_size=6).filter(lambda t: not t.strip().lstrip("+-").isdigit() and not t.startswith("-")
                                    and "\x00" not in t))
def test_optimal_beta_digits(text):
    _assert_usage_error(["optimal-beta", "--digits", text, "--no-exact"], "--digits")


@given(st.text(max_size=10).filter(lambda t: t not in ("paper", "fig3") and not t.startswith("-") and "\x00" not in t))
def test_unknown_problem_name(text):
    _assert_usage_error(["curve", "--betas", "1", "--problem", text], "--problem")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=12).filter(lambda t: not t.startswith("-") and "\x00" not in t
                                                and all(p.strip() not in __import__("verify.catalogue").catalogue.ids()
                                                        for p in t.split(","))))
def test_audit_only(tmp_path_factory, text):
    out = tmp_path_factory.mktemp("audit") / "o"
    _assert_usage_error(["audit", "--out", str(out), "--only", text], "--only")
    assert not out.exists()


# ------------------------------------------------------------------------------ matrix files
def _expected_valid(A):
    return A.ndim in (1, 2) and A.size > 0 and np.all(np.isfinite(A)) and (A.ndim == 1 or A.shape[1] <= A.shape[0])


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200), st.sampled_from([".npy", ".csv"]))
def test_garbage_files_are_refused_in_one_line(tmp_path, data, suffix):
    path = tmp_path / f"m{suffix}"
    path.write_bytes(data)
    status, out, err = _run(["curve", "--betas", "1", "--mixing", str(path), "--json"])
    if status == 0:      # some byte strings are valid CSV numbers: then the answer must be finite numbers
        assert "NaN" not in out and "Infinity" not in out
    else:
        assert status == 2 and err.count("\n") == 1 and err.startswith("error: --mixing"), err
        assert "Traceback" not in err and out == ""


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from([0.0, 1.0, -2.5, np.nan, np.inf, 1e308]), min_size=1, max_size=4),
                min_size=1, max_size=4).filter(lambda rows: len({len(r) for r in rows}) == 1))
def test_matrices_with_bad_values_or_shape(tmp_path, rows):
    A = np.array(rows)
    path = tmp_path / "m.npy"
    np.save(path, A)
    status, out, err = _run(["curve", "--betas", "0.5,2", "--mixing", str(path), "--json"])
    if _expected_valid(A) and np.abs(A).max() < 1e150:
        assert status == 0, err
        assert "NaN" not in out and "Infinity" not in out
        for line in err.splitlines():
            assert line.startswith("warning: ")
    elif not _expected_valid(A):
        assert status == 2 and err.count("\n") == 1 and err.startswith("error: --mixing"), err


def test_missing_and_pickled_files(tmp_path):
    _assert_usage_error(["curve", "--mixing", str(tmp_path / "nope.npy")], "--mixing")
    obj = tmp_path / "obj.npy"
    np.save(obj, np.array([[1, "a"]], dtype=object), allow_pickle=True)
    _assert_usage_error(["curve", "--mixing", str(obj)], "--mixing")
    _assert_usage_error(["curve", "--mixing", str(Path(os.devnull))], "--mixing")
