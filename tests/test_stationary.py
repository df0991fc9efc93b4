"""The full stationarity system solved numerically (numerics.stationary) against the closed form.

Every test here can fail: each asserts a property that a wrong Hessian, a wrong classification, a
root finder that stops early, or a closed form that is not the global optimum would break.
"""
import doctest
import math

import numpy as np
import pytest

from numerics import generated as gen
from numerics import blas_threads, model, stationary_classify, stationary_hessian, stationary_starts
from numerics import stationary as st
from numerics.model import paper_mixing, parameter_count, parameter_shapes
from numerics.optimum import closed_form_optimum, closed_form_terms


def _problem(seed, n=4, kk=2):
    A = np.random.default_rng(seed).normal(size=(n, kk))
    return A, A @ A.T + np.eye(n)


def _lams(A):
    """Eigenvalues of Sigma_x = A A^T + I, descending (the top k are the collapse thresholds)."""
    return np.sort(np.linalg.eigvalsh(A @ A.T + np.eye(A.shape[0])))[::-1]


def _betas(A):
    lam = _lams(A)
    # below every threshold (and below the noise eigenvalue 1), between 1 and lambda_2,
    # between lambda_2 and lambda_1 (unit 2 collapsed), above lambda_1 (both collapsed)
    return [0.5, float(0.5 * (1 + lam[1])), float(0.5 * (lam[0] + lam[1])), float(lam[0] + 1.0)]


def _grad_norm(params, S, beta):
    return float(np.linalg.norm(np.concatenate(
        [getattr(gen, f"grad_{nm}")(*params, S, beta).ravel() for nm in model.NAMES])))


def _paper(n=6):
    return paper_mixing(n, 2)


# ----------------------------------------------------------------------------- the optimum
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_is_the_best_stationary_point_and_the_only_maximum(seed):
    A, S = _problem(seed)
    for beta in _betas(A):
        r = st.solve_stationary(A, beta, starts=8, seed=seed)
        assert r.closed_form_found and r.closed_form_is_best, (beta, st.format_result(r))
        top = r.points[0]
        assert top.is_closed_form and top.kind == "maximum", (beta, st.format_result(r))
        assert top.hessian.n_positive == 0 and top.hessian.n_near_zero == 0   # strict: no flat directions
        assert abs(r.best_gap) < 1e-9 * (1 + abs(r.closed_form_objective))
        # the objective of the best root is the closed form's, computed independently with k x k work
        assert top.objective == pytest.approx(closed_form_terms(A, beta).objective, rel=1e-12)
        # every other stationary point is strictly worse and not a maximum (no spurious local maxima)
        for p in r.points[1:]:
            assert p.objective < r.closed_form_objective - 1e-9
            assert p.kind == "saddle", (beta, st.format_result(r))
        assert r.runner_up_gap > 0


# ------------------------------------------------------------------------- a collapsed unit
@pytest.mark.parametrize("which", [0, 1])
def test_a_collapsed_unit_below_its_threshold_is_a_saddle(which):
    """d_1 = 0 with the other unit on the top eigenvector: stationary, lower, not a maximum."""
    A, S = _problem(3)
    lam, U = np.linalg.eigh(S)
    lam, U = lam[::-1], U[:, ::-1]
    beta = [0.5, float(0.5 * (1 + lam[1]))][which]
    D = np.zeros((4, 2))
    D[:, 1] = math.sqrt(lam[0] - beta) * U[:, 0]          # unit 1 collapsed, unit 2 on u_1
    params = stationary_starts.complete_from_D(D, S, beta)
    assert _grad_norm(params, S, beta) < 1e-12
    f = gen.objective(*params, S, beta)
    f_cf = closed_form_terms(A, beta).objective
    assert f < f_cf - 1e-3
    theta = model.flatten(params)
    ev = np.linalg.eigvalsh(stationary_hessian.hessian(theta, S, beta))
    assert ev[-1] > 1e-3
    # one ascent direction per unused eigenvector with lambda > beta: curvature ~ lambda / beta - 1
    expected = int(np.sum(lam[1:] > beta))
    kind, summary = stationary_classify.classify(stationary_hessian.hessian(theta, S, beta), stationary_classify.symmetry_dimension(params, S))
    assert kind == "saddle" and summary.n_positive == expected, (summary, expected)
    # the solver finds the same point and classifies it the same way
    r = st.solve_stationary(A, beta, starts=6, seed=0)
    match = [p for p in r.points if np.allclose(p.dtd_spectrum, [lam[0] - beta, 0.0], atol=1e-8)
             and abs(p.objective - f) < 1e-9]
    assert len(match) == 1 and match[0].kind == "saddle" and match[0].hessian.n_positive == expected


def test_the_same_collapse_is_the_maximum_above_the_threshold():
    """Control for the test above: for lambda_2 < beta < lambda_1 that point *is* the optimum."""
    A, S = _problem(3)
    lam, U = np.linalg.eigh(S)
    lam, U = lam[::-1], U[:, ::-1]
    beta = float(0.5 * (lam[0] + lam[1]))
    D = np.zeros((4, 2))
    D[:, 1] = math.sqrt(lam[0] - beta) * U[:, 0]
    params = stationary_starts.complete_from_D(D, S, beta)
    kind, summary = stationary_classify.classify(stationary_hessian.hessian(model.flatten(params), S, beta), stationary_classify.symmetry_dimension(params, S))
    assert kind == "maximum" and summary.n_near_zero == 0
    assert gen.objective(*params, S, beta) == pytest.approx(closed_form_terms(A, beta).objective, rel=1e-12)


# -------------------------------------------------------------------------------- Hessian
def test_hessian_matches_finite_differences_of_the_generated_objective():
    rng = np.random.default_rng(11)
    A, S = _problem(4)
    beta = 0.8
    n = parameter_count(4, 2)
    theta = 0.5 * rng.normal(size=n)
    H = stationary_hessian.hessian(theta, S, beta)
    f = lambda t: gen.objective(*model.unflatten(t, 4, 2), S, beta)  # noqa: E731
    h = 2e-4
    E = np.eye(n) * h
    F = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            F[i, j] = F[j, i] = (f(theta + E[i] + E[j]) - f(theta + E[i] - E[j])
                                 - f(theta - E[i] + E[j]) + f(theta - E[i] - E[j])) / (4 * h * h)
    scale = np.max(np.abs(H))
    assert np.max(np.abs(H - F)) < 1e-5 * scale, np.max(np.abs(H - F)) / scale
    # and the analytic Hessian is the complex-step Jacobian of the generated gradient to rounding
    Hc = stationary_hessian.hessian_complex_step(theta, S, beta)
    assert np.max(np.abs(H - Hc)) < 1e-12 * scale
    assert np.max(np.abs(Hc - Hc.T)) < 1e-12 * scale


def test_symmetry_orbit_gives_exactly_the_predicted_zero_eigenvalues():
    """A unit on a noise eigenvector (eigenvalue 1, multiplicity N - k = 2) can rotate: one zero."""
    A, S = _problem(5)
    beta = 0.5
    lam, U = np.linalg.eigh(S)                            # ascending: U[:, 0], U[:, 1] span the noise
    D = np.zeros((4, 2))
    D[:, 0] = math.sqrt(lam[-1] - beta) * U[:, -1]
    D[:, 1] = math.sqrt(1.0 - beta) * U[:, 0]
    params = stationary_starts.complete_from_D(D, S, beta)
    assert _grad_norm(params, S, beta) < 1e-12
    H = stationary_hessian.hessian(model.flatten(params), S, beta)
    assert stationary_classify.symmetry_dimension(params, S) == 1
    kind, summary = stationary_classify.classify(H, 1)
    assert summary.n_near_zero == 1 and kind == "saddle"
    # the rotation inside the noise plane is a null vector of the Hessian
    K = np.outer(U[:, 0], U[:, 1]) - np.outer(U[:, 1], U[:, 0])
    W, b, V, c, Dm, bD = params
    t = model.flatten([-W @ K, 0 * b, -V @ K, 0 * c, K @ Dm, K @ bD])
    assert np.linalg.norm(H @ t) < 1e-10 * np.linalg.norm(t) * np.max(np.abs(H))


# ------------------------------------------------------------------- theory vs what is found
@pytest.mark.parametrize("beta", [0.5, 1.1, 2.0, 6.0])
def test_paper_like_problem_found_points_are_exactly_the_theory_points(beta):
    """k = 2: orthogonal, paired and shared points are all the stationary points up to symmetry."""
    A = _paper(6)
    S = A @ A.T + np.eye(6)
    theory = stationary_starts.theory_points(S, 2, beta)
    for label, params in theory:                           # each an exact root of the generated gradient
        assert _grad_norm(params, S, beta) < 1e-11, label
    r = st.solve_stationary(A, beta, starts=12, seed=1)
    inv_theory = [stationary_classify.invariants(p, S, beta) for _, p in theory]
    inv_found = [stationary_classify.invariants(p.parameters.arrays(), S, beta) for p in r.points]
    assert len(r.points) == len(theory), st.format_result(r)
    for a in inv_theory:
        assert sum(stationary_classify.same_class(a, b) for b in inv_found) == 1
    assert r.closed_form_is_best and r.points[0].is_closed_form and r.points[0].kind == "maximum"
    assert [p.kind for p in r.points[1:]] == ["saddle"] * (len(r.points) - 1)


def test_paired_and_shared_points_of_a_three_unit_problem_are_stationary_saddles():
    A, S = _problem(6, n=5, kk=3)
    beta = 0.7
    pts = [(lab, p) for lab, p in stationary_starts.theory_points(S, 3, beta) if not lab.startswith("orthogonal")]
    assert len(pts) > 5
    for label, params in pts:
        assert _grad_norm(params, S, beta) < 1e-10, label
        kind, _ = stationary_classify.classify(stationary_hessian.hessian(model.flatten(params), S, beta), stationary_classify.symmetry_dimension(params, S))
        assert kind == "saddle", label


# ---------------------------------------------------------------- accuracy and determinism
def test_every_reported_point_has_gradient_norm_below_1e_8():
    A, S = _problem(7, n=5, kk=3)
    for beta in (0.6, 3.0):
        r = st.solve_stationary(A, beta, starts=6, seed=2)
        assert r.n_converged > 0 and len(r.points) > 1
        for p in r.points:
            assert p.grad_norm < 1e-8
            assert _grad_norm(p.parameters.arrays(), S, beta) < 1e-8        # recomputed, not the stored value
        assert r.closed_form_is_best and r.points[0].is_closed_form


def test_same_seed_gives_identical_results():
    A = _paper(5)
    r1 = st.solve_stationary(A, 0.9, starts=6, seed=3)
    r2 = st.solve_stationary(A, 0.9, starts=6, seed=3)
    assert r1 == r2
    for p, q in zip(r1.points, r2.points):
        for x, y in zip(p.parameters.arrays(), q.parameters.arrays()):
            assert np.array_equal(x, y)
    r3 = st.solve_stationary(A, 0.9, starts=6, seed=4)
    assert r3 != r1                     # the comparison is not vacuous: other starts, other representatives
    assert [p.kind for p in r3.points] == [p.kind for p in r1.points]


def test_degenerate_at_a_collapse_threshold():
    """beta = lambda_2 exactly: unit 2 has just collapsed and is flat to quartic order."""
    A = _paper(6)
    lam = _lams(A)
    r = st.solve_stationary(A, float(lam[1]), starts=4, seed=0)
    top = r.points[0]
    assert top.is_closed_form and r.closed_form_is_best
    assert top.kind == "degenerate" and top.hessian.n_positive == 0 and top.hessian.n_near_zero == 1


# --------------------------------------------------------------------------- input checks
@pytest.mark.parametrize("A, beta", [
    (np.ones((11, 2)), 1.0),                 # N too large
    (np.ones((6, 4)), 1.0),                  # k too large
    (np.ones((2, 3)), 1.0),                  # k > N
    (np.ones(4), 1.0),                       # not 2-D
    (np.zeros((0, 2)), 1.0),                 # empty
    (np.array([[1.0, np.nan], [0, 1], [1, 1]]), 1.0),
    (np.array([[1.0, np.inf], [0, 1], [1, 1]]), 1.0),
    (np.ones((4, 2)), 0.0),
    (np.ones((4, 2)), -1.0),
    (np.ones((4, 2)), float("nan")),
    (np.ones((4, 2)), float("inf")),
    (np.ones((4, 2)), True),
    (np.ones((4, 2)), "1"),
    ([["a", "b"]], 1.0),
])
def test_invalid_input_is_rejected(A, beta):
    with pytest.raises(ValueError):
        st.solve_stationary(A, beta, starts=1)


def test_invalid_starts_and_seed_are_rejected():
    for kw in ({"starts": -1}, {"starts": 2.5}, {"seed": 1.5}, {"seed": None}):
        with pytest.raises(ValueError):
            st.solve_stationary(np.ones((4, 2)), 1.0, **kw)


def test_flatten_roundtrip_and_docstring_example():
    rng = np.random.default_rng(0)
    params = [rng.normal(size=s) for s in parameter_shapes(5, 3)]
    back = model.unflatten(model.flatten(params), 5, 3)
    assert all(np.array_equal(a, b) for a, b in zip(params, back))
    with pytest.raises(ValueError):
        model.unflatten(np.zeros(7), 5, 3)
    A, S = _problem(8)
    g = stationary_hessian.gradient(model.flatten(closed_form_optimum(A, 0.5).arrays()), S, 0.5)
    assert g.shape == (parameter_count(4, 2),) and np.linalg.norm(g) < 1e-12
    for module in (st, stationary_hessian, stationary_classify, stationary_starts, blas_threads):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, module.__name__
