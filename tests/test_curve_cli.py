"""The curve command and the problem loaders: values, scale structure and bad input."""
import json
import subprocess
import sys

import numpy as np
import pytest

from numerics import problems
from numerics.curve import beta_curve, parse_betas, parse_grid
from numerics.optimum import closed_form_terms
from verify import cli


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_curve_json_matches_closed_form_terms(capsys):
    status, out, err = run(capsys, "curve", "--betas", "0.5,1,3", "--json")
    assert status == 0 and err == ""
    rows = json.loads(out)
    A = problems.paper_problem().A
    for row in rows:
        t = closed_form_terms(A, row["beta"])
        for key in ("reconstruction", "kl", "elbo", "log_likelihood", "mie", "tie"):
            assert row[key] == pytest.approx(getattr(t, key), rel=1e-12)


def test_curve_identity_mie_equals_loglik_minus_elbo():
    c = beta_curve(problems.random_problem(40, 4, seed=3).A, np.geomspace(0.05, 100, 40))
    np.testing.assert_allclose(c.column("mie"), c.column("log_likelihood") - c.column("elbo"), atol=1e-9)


def test_fig3_problem_and_mixing_file_agree(tmp_path, capsys):
    A = problems.fig3_problem().A
    np.save(tmp_path / "a.npy", A)
    np.savetxt(tmp_path / "a.csv", A, delimiter=",")
    outs = [{k: v for k, v in json.loads(run(capsys, "curve", "--betas", "2", "--json", *extra)[1])[0].items()
             if k != "provenance"}
            for extra in (["--problem", "fig3"], ["--mixing", str(tmp_path / "a.npy")],
                          ["--mixing", str(tmp_path / "a.csv")])]
    assert outs[0] == outs[1] == outs[2]


def test_plot_is_written(tmp_path, capsys):
    status, out, err = run(capsys, "curve", "--loggrid", "0.1:100:20", "--plot", str(tmp_path / "f.png"))
    assert status == 0 and (tmp_path / "f.png").stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png"]


@pytest.mark.parametrize("argv,flag", [
    (["--betas", "-0.5,1"], "--betas"), (["--betas", "nan"], "--betas"), (["--betas", "-1"], "--betas"),
    (["--betas", "inf"], "--betas"), (["--betas", "x"], "--betas"), (["--grid", "1:2"], "--grid"),
    (["--grid", "2:1:5"], "--grid"), (["--grid", "-1:1:5"], "--grid"), (["--loggrid", "0:1:5"], "--loggrid"), (["--problem", "nope"], "--problem"),
    (["--random", "3y2"], "--random"), (["--random", "0x2"], "--random"), (["--mixing", "/no/such.csv"], "--mixing"),
    (["--plot", "/no/such/dir/f.png"], "--plot"), (["--betas", "1", "--grid", "1:2:3"], "--grid"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, flag):
    status, out, err = run(capsys, "curve", *argv)
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {flag}"), err


@pytest.mark.parametrize("content,name", [("", "e.csv"), ("1,2\n3,x\n", "bad.csv"), ("1,nan\n2,3\n", "nan.csv"),
                                          ("1,2,3\n", "wide.csv"), ("a", "m.txt")])
def test_bad_mixing_files(tmp_path, capsys, content, name):
    path = tmp_path / name
    path.write_text(content)
    status, out, err = run(capsys, "curve", "--mixing", str(path))
    assert status == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("error: --mixing"), err
    assert "Traceback" not in err


def test_pickled_npy_is_refused(tmp_path, capsys):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    status, out, err = run(capsys, "curve", "--mixing", str(tmp_path / "obj.npy"))
    assert status == 2 and err.startswith("error: --mixing")


def test_degenerate_problem_warns_but_answers(tmp_path, capsys):
    np.save(tmp_path / "rep.npy", np.eye(4, 2) * 3.0)     # A^T A = 9 I: repeated eigenvalues
    status, out, err = run(capsys, "curve", "--mixing", str(tmp_path / "rep.npy"), "--betas", "1,5", "--json")
    assert status == 0 and "warning: A^T A has repeated eigenvalues" in err
    assert all(np.isfinite(v) for row in json.loads(out) for k, v in row.items() if isinstance(v, float))


def test_parsers():
    assert list(parse_betas("0.1, 1,5")) == [0.1, 1.0, 5.0]
    np.testing.assert_allclose(parse_grid("1:3:3"), [1, 2, 3])
    np.testing.assert_allclose(parse_grid("1:100:3", geometric=True), [1, 10, 100])


def test_subprocess_entry_point():
    out = subprocess.run([sys.executable, "-m", "verify", "curve", "--betas", "1", "--json"],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)[0]["mie"] == pytest.approx(0.0, abs=1e-12)


def test_stationary_command_finds_the_closed_form_as_the_best(capsys):
    status, out, err = run(capsys, "stationary", "--problem", "fig3", "--beta", "1.5", "--json", "--starts", "8")
    assert status == 0
    d = json.loads(out)
    assert d["closed_form_is_best"] and d["kinds"].get("maximum") == 1
    best = max(p["objective"] for p in d["points"])
    assert best == pytest.approx(closed_form_terms(problems.fig3_problem().A, 1.5).objective, rel=1e-10)


@pytest.mark.parametrize("argv,flag", [(["--beta", "0"], "--beta"), (["--beta", "x"], "--beta"),
                                       (["--beta", "1"], "--problem"), (["--beta", "1", "--random", "50x2"], "--random"),
                                       (["--beta", "1", "--problem", "fig3", "--starts", "0"], "--starts")])
def test_stationary_bad_input(capsys, argv, flag):
    status, out, err = run(capsys, "stationary", *argv)
    assert status == 2 and out == "" and len(err.splitlines()) == 1 and err.startswith(f"error: {flag}"), err


def test_optimal_beta_command_agrees_with_a_float_minimisation(capsys):
    from scipy.optimize import minimize_scalar
    status, out, err = run(capsys, "optimal-beta", "--digits", "20", "--json", "--no-exact")
    assert status == 0
    d = json.loads(out)
    A = problems.paper_problem().A
    r = minimize_scalar(lambda b: closed_form_terms(A, b).tie, bounds=(0.5, 3), method="bounded",
                        options={"xatol": 1e-11})
    assert float(d["beta_star"]) == pytest.approx(r.x, rel=1e-7)      # a float argmin is good to ~8 digits
    assert float(d["tie_star"]) == pytest.approx(r.fun, rel=1e-12)
    assert len(d["beta_star"].replace(".", "").lstrip("0")) == 20
    # the alignment is numerics.gauge's one type in its one JSON form; the overlaps and collapsed units describe the
    # optimum
    assert set(d["alignment"]) == {"permutation", "signs", "cost", "method", "exact", "evaluated", "how",
                                   "tied_permutations", "unique"}
    assert d["alignment"]["unique"] is False and d["alignment"]["permutation"] in d["alignment"]["tied_permutations"]
    assert d["overlaps"] == ["0.707106781187"] * 2 and d["collapsed_units"] == [] and d["active_units"] == [0, 1]


@pytest.mark.parametrize("argv,flag", [(["--digits", "0"], "--digits"), (["--digits", "1001"], "--digits"),
                                       (["--digits", "ten"], "--digits"), (["--problem", "x"], "--problem")])
def test_optimal_beta_bad_input(capsys, argv, flag):
    status, out, err = run(capsys, "optimal-beta", *argv)
    assert status == 2 and out == "" and len(err.splitlines()) == 1 and err.startswith(f"error: {flag}"), err
