"""Degenerate but meaningful inputs get an answer with a stated warning, or a clear refusal; never a NaN.

Repeated eigenvalues of AᵀA, rank-deficient A, k > N, beta on a collapse threshold, very small and very
large beta. The JSON is parsed strictly (NaN and Infinity are rejected), every stderr line of a
successful run is a ``warning:`` line, and a refusal is one ``error:`` line with exit status 2.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numerics import problems

from cli_run import run_main, strict_json


_run = run_main


_strict = strict_json


def _numbers(doc):
    if isinstance(doc, dict):
        for v in doc.values():
            yield from _numbers(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _numbers(v)
    elif isinstance(doc, float):
        yield doc


def _answer_or_refusal(argv, flag):
    """Either exit 0 with strict, finite JSON and only warnings on stderr, or one error line naming ``flag``."""
    status, out, err = _run(argv)
    if status == 0:
        doc = _strict(out)
        assert all(math.isfinite(x) for x in _numbers(doc))
        assert all(line.startswith("warning: ") for line in err.splitlines()), err
        return doc, err
    flags = (flag,) if isinstance(flag, str) else flag
    assert status == 2 and out == "" and err.count("\n") == 1, (argv, err)
    assert any(err.startswith(f"error: {f}: ") for f in flags), (argv, err)
    return None, err


# ------------------------------------------------------------------------------- the matrices
@st.composite
def degenerate_matrices(draw):
    """Small mixing matrices with repeated eigenvalues, zero or repeated columns, or a tiny/huge scale."""
    N = draw(st.integers(1, 5))
    k = draw(st.integers(1, N))
    kind = draw(st.sampled_from(["scaled identity", "zero column", "repeated column", "zero", "scale"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    A = rng.normal(size=(N, k))
    if kind == "scaled identity":
        A = np.zeros((N, k))
        A[:k, :k] = draw(st.sampled_from([1e-8, 0.5, 1.0, 3.0])) * np.eye(k)
    elif kind == "zero column":
        A[:, draw(st.integers(0, k - 1))] = 0.0
    elif kind == "repeated column" and k >= 2:
        A[:, 1] = A[:, 0]
    elif kind == "zero":
        A[:] = 0.0
    elif kind == "scale":
        A *= draw(st.sampled_from([1e-150, 1e-8, 1e8, 1e100]))
    return A


betas_anywhere = st.one_of(st.floats(min_value=5e-324, max_value=1.7e308), st.sampled_from([1.0, 2.0, 1e-300, 1e300]))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(A=degenerate_matrices(), beta=betas_anywhere)
def test_curve_answers_or_refuses_never_nan(tmp_path, A, beta):
    path = tmp_path / "a.npy"
    np.save(path, A)
    # refused as --betas (below lambda_max 2^-1000) or --mixing (A^T A beyond 1e150)
    doc, _ = _answer_or_refusal(["curve", "--mixing", str(path), "--betas", repr(beta), "--json"],
                                ("--betas", "--mixing"))
    if doc is not None:
        assert doc[0]["beta"] == beta and doc[0]["kl"] >= 0 and doc[0]["mie"] >= 0


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(A=degenerate_matrices())
def test_optimal_beta_answers_or_refuses_never_nan(tmp_path, A):
    path = tmp_path / "a.npy"
    np.save(path, A)
    doc, err = _answer_or_refusal(["optimal-beta", "--mixing", str(path), "--digits", "15", "--json"], "--mixing")
    if doc is not None:
        assert float(doc["beta_star"]) > 0
    gram = np.linalg.eigvalsh(A.T @ A)
    if A.shape[1] >= 2 and np.min(np.diff(gram)) == 0.0 and np.any(A):
        assert "repeated eigenvalue" in err


def test_repeated_eigenvalues_and_rank_deficiency_are_stated():
    A = np.zeros((4, 3))
    A[:2, :2] = np.eye(2)                                    # two equal eigenvalues and one zero column
    status, out, err = _run_matrix(A, ["curve", "--betas", "0.5,1,2", "--json"])
    assert status == 0 and all(math.isfinite(x) for x in _numbers(_strict(out)))
    assert "repeated eigenvalues" in err and "rank-deficient" in err


def _run_matrix(A, argv):
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "a.npy"
        np.save(path, A)
        return _run([*argv, "--mixing", str(path)])


@pytest.mark.parametrize("command,extra", [("curve", ["--betas", "1"]), ("optimal-beta", ["--no-exact"]),
                                           ("stationary", ["--beta", "1"]), ("crosscheck", ["--paths", "exact"])])
def test_more_latents_than_observed_dimensions_is_refused(command, extra):
    status, out, err = _run_matrix(np.ones((2, 3)), [command, *extra])
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("error: --mixing: ") and "k = 3" in err and "N = 2" in err


# ---------------------------------------------------------------------------- collapse thresholds
def _paper_thresholds():
    a = np.linalg.svd(problems.paper_problem().A, compute_uv=False) ** 2
    return sorted(1.0 + a)


@pytest.mark.parametrize("which", [0, 1])
def test_beta_on_a_collapse_threshold_is_answered_with_a_warning(which):
    threshold = float(_paper_thresholds()[which])     # 1.25 and 66.25, from the SVD, not typed in
    doc, err = _answer_or_refusal(["curve", "--betas", repr(threshold), "--json"], "--betas")
    assert "collapse threshold" in err
    # the value is the limit from both sides: from the right the curve is smooth (gap ~ eps), from the left
    # the collapsing unit gives a square-root kink (gap ~ sqrt(eps)): both gaps shrink as eps does
    def gap(factor):
        other, _ = _answer_or_refusal(["curve", "--betas", repr(threshold * factor), "--json"], "--betas")
        return max(abs(doc[0][key] - other[0][key]) for key in ("tie", "kl", "elbo", "reconstruction"))
    # at the threshold itself the kink turns float64 rounding of lambda (1e-16) into ~sqrt(1e-16) = 1e-8
    assert gap(1 + 1e-12) <= 1e-6 and gap(1 + 1e-12) <= gap(1 + 1e-4)
    assert gap(1 - 1e-12) < 1e-4 and gap(1 - 1e-12) < gap(1 - 1e-6) / 100
    # the warning's "about 1e-8", against TIE at 40 digits from the exact Gram matrix
    from numerics.tie_envelope import tie_envelope
    solver = tie_envelope(problems.paper_problem().A, 40)
    exact_tie = float(solver.tie(solver.ctx.mpf(repr(threshold))))
    assert abs(doc[0]["tie"] - exact_tie) < 1e-7 and "1e-8" in err


def test_stationary_on_a_threshold_warns_and_finds_the_closed_form():
    A = problems.fig3_problem().A
    threshold = float(1.0 + np.linalg.svd(A, compute_uv=False)[-1] ** 2)      # 5 for Fig. 3's problem
    doc, err = _answer_or_refusal(["stationary", "--problem", "fig3", "--beta", repr(threshold), "--starts", "8",
                                   "--json"], "--beta")
    assert "collapse threshold" in err and doc["closed_form_found"] and doc["closed_form_is_best"]


# ------------------------------------------------------------------------------------ extreme betas
@pytest.mark.parametrize("beta", [1e-290, 1e-30, 1e-8, 1e8, 1e30, 1e300, 1.7e308])
def test_curve_at_extreme_beta_matches_the_limits(beta):
    """Tiny beta: the plain autoencoder limit (KL ~ (k/2) ln(1/beta)); huge beta: every unit collapsed, KL = 0."""
    doc, _ = _answer_or_refusal(["curve", "--betas", repr(beta), "--json"], "--betas")
    point = doc[0]
    k = problems.paper_problem().A.shape[1]
    lam = np.array(_paper_thresholds())
    if beta < 1:
        # an active unit has posterior variance beta/lambda and E[mu^2] = 1 - beta/lambda: KL = ln(lambda/beta)/2
        assert point["kl"] == pytest.approx(0.5 * float(np.sum(np.log(lam) - math.log(beta))), rel=1e-9)
        assert point["kl"] > 0.5 * k * math.log(1 / beta)
    else:
        assert point["kl"] == 0.0 and point["mie"] == 0.0


def test_subnormal_beta_is_refused_naming_the_option():
    status, out, err = _run(["curve", "--betas", "5e-324", "--json"])
    assert status == 2 and out == "" and err.startswith("error: --betas: ") and "overflow" in err


@pytest.mark.parametrize("beta", ["1e-6", "2e12"])
def test_stationary_refuses_beta_outside_its_well_conditioned_range(beta):
    status, out, err = _run(["stationary", "--problem", "fig3", "--beta", beta])
    assert status == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: --beta: ")


def test_crosscheck_far_from_one_warns_before_training():
    status, out, err = _run(["crosscheck", "--problem", "fig3", "--betas", "1e-6", "--seeds", "1", "--paths", "exact",
                             "--json"])
    assert "warning: beta = 1e-06 is outside" in err
    doc = _strict(out)        # whatever the optimiser reached, the output is strict JSON
    assert doc["ok"] is (status == 0)


def test_a_nan_never_reaches_the_output(monkeypatch):
    """The last line of defence: if a computation produced a NaN, the command says so instead of printing it."""
    import numerics.curve as curve_module
    real = curve_module.beta_curve

    def poisoned(*args, **kwargs):
        c = real(*args, **kwargs)
        object.__setattr__(c.terms[0], "tie", float("nan"))
        return c
    monkeypatch.setattr(curve_module, "beta_curve", poisoned)
    status, out, err = _run(["curve", "--betas", "2", "--json"])
    assert status == 1 and out == "" and err.count("\n") == 1 and "NaN at $[0].tie" in err


def test_a_one_dimensional_mixing_file_is_read_as_one_column_with_a_warning(tmp_path):
    """A 1-D .npy does not say whether it is a row or a column: the reading (N x 1) is stated, and the answer is the
    one for the explicit N x 1 matrix (a row, 1 x k with k > 1, would be refused: k > N)."""
    column = np.array([0.3, -1.2, 2.0, 0.7])
    np.save(tmp_path / "flat.npy", column)
    np.save(tmp_path / "column.npy", column.reshape(-1, 1))
    status, out, err = _run(["curve", "--mixing", str(tmp_path / "flat.npy"), "--betas", "0.5,3", "--json"])
    assert status == 0
    warnings = [line for line in err.splitlines() if "1-D" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning:") and "4 x 1" in warnings[0], err
    status2, out2, err2 = _run(["curve", "--mixing", str(tmp_path / "column.npy"), "--betas", "0.5,3", "--json"])
    assert status2 == 0 and "1-D" not in err2
    keys = ("beta", "reconstruction", "kl", "elbo", "tie")
    assert [[row[k] for k in keys] for row in _strict(out)] == [[row[k] for k in keys] for row in _strict(out2)]
