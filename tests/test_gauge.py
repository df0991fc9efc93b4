"""numerics.gauge against brute force: every signed permutation applied by explicit loops, the TIE of each
written out from the Gaussian KL (no relabelling cost, no vectorised enumeration), the minimum taken by hand.

Each check is paired with a wrong alignment (a sign flipped, two sources swapped) that it must reject.
"""
import itertools
import math

import numpy as np
import pytest

from numerics import generated as gen
from numerics import gauge
from numerics.optimum import closed_form_optimum


# ------------------------------------------------------------------------------------ independent route
def _instance(k, seed, n=300, N=6):
    """Observations x = A s + noise and an encoder whose means mix a signed permutation of the posterior mean."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((N, k))
    x = rng.standard_normal((n, k)) @ A.T + rng.standard_normal((n, N))
    F = np.linalg.solve(A.T @ A + np.eye(k), A.T)
    perm, signs = rng.permutation(k), rng.choice([-1.0, 1.0], k)
    mu = np.empty((n, k))
    for j in range(k):                                     # latent j ~ signs_j * source perm_j, plus noise
        mu[:, j] = signs[j] * (x @ F[perm[j]]) + 0.4 * np.tanh(x @ rng.standard_normal(N))
    var = np.exp(rng.uniform(-2.0, 0.0, size=(n, k)))
    return A, x, mu, var


def _tie_by_loops(mu, var, x, A, perm, signs):
    """Mean over examples of KL(N(mu', diag v') || N(F x, (A^T A + I)^-1)), mu'[perm[j]] = signs[j] mu[j]."""
    n, k = mu.shape
    precision = A.T @ A + np.eye(k)
    covariance = np.linalg.inv(precision)
    total = 0.0
    for i in range(n):
        m, v = np.zeros(k), np.zeros(k)
        for j in range(k):
            m[perm[j]] = signs[j] * mu[i, j]
            v[perm[j]] = var[i, j]
        d = covariance @ A.T @ x[i] - m
        total += 0.5 * (np.trace(precision @ np.diag(v)) + d @ precision @ d - k
                        + np.log(np.linalg.det(covariance)) - np.sum(np.log(v)))
    return total / n


def _brute_force(mu, var, x, A):
    """{(perm, signs): TIE} over all 2^k k! signed permutations, by explicit loops."""
    k = A.shape[1]
    return {(perm, signs): _tie_by_loops(mu, var, x, A, perm, signs)
            for perm in itertools.permutations(range(k)) for signs in itertools.product((1, -1), repeat=k)}


def _problem(mu, var, x, A):
    n = len(mu)
    return gauge.AlignmentProblem(precision=A.T @ A + np.eye(A.shape[1]), mean_variance=var.mean(0),
                                  second_moment=mu.T @ mu / n, cross_moment=(x @ A).T @ mu / n)


def assert_best(alignment, ties, rel=1e-9):
    """``alignment`` attains the brute-force minimum of TIE, and every relabelling's cost differs from its own by
    twice the TIE difference (the cost is TIE up to the terms every relabelling shares, times two)."""
    best = min(ties.values())
    chosen = ties[(alignment.permutation, alignment.signs)]
    assert chosen == pytest.approx(best, rel=rel, abs=1e-12), f"{alignment.permutation, alignment.signs} is not best"


# ------------------------------------------------------------------------------------------- the search
@pytest.mark.parametrize("k,seed", [(1, 0), (2, 1), (3, 2), (3, 3), (4, 4)])
def test_exact_alignment_is_the_brute_force_minimum(k, seed):
    A, x, mu, var = _instance(k, seed)
    ties = _brute_force(mu, var, x, A)
    problem = _problem(mu, var, x, A)
    exact = gauge.exact_alignment(problem)
    assert exact.is_exact and exact.evaluated == 2 ** k * math.factorial(k) == len(ties)
    assert_best(exact, ties)
    # the cost is twice the TIE up to shared terms: compare every relabelling's cost with the loops' TIE
    labels = list(ties)
    costs = gauge.relabelling_cost(problem, np.array([p for p, _ in labels]), np.array([s for _, s in labels]))
    shared = np.array([ties[label] for label in labels]) - 0.5 * costs
    np.testing.assert_allclose(shared, shared[0], rtol=0, atol=1e-9 * max(1.0, abs(shared[0])))
    assert exact.cost == pytest.approx(costs.min(), rel=1e-12)
    # batches of any size give the same answer (the first minimum in a fixed order)
    assert gauge.exact_alignment(problem, chunk=1) == exact


@pytest.mark.parametrize("wrong", ["sign", "swap"])
def test_a_wrong_alignment_is_rejected(wrong):
    A, x, mu, var = _instance(3, 5)
    ties = _brute_force(mu, var, x, A)
    exact = gauge.exact_alignment(_problem(mu, var, x, A))
    perm, signs = list(exact.permutation), list(exact.signs)
    if wrong == "sign":
        signs[0] = -signs[0]
    else:
        perm[0], perm[1] = perm[1], perm[0]
    bad = gauge.Alignment(tuple(perm), tuple(signs), exact.cost, "exact", exact.evaluated, exact.how)
    with pytest.raises(AssertionError, match="is not best"):
        assert_best(bad, ties)


@pytest.mark.parametrize("k", [3, 4, 5])
def test_heuristic_is_an_upper_bound_and_finds_planted_relabellings(k):
    found = 0
    for seed in range(6):
        A, x, mu, var = _instance(k, 10 * k + seed, n=200)
        problem = _problem(mu, var, x, A)
        exact, heuristic = gauge.exact_alignment(problem), gauge.heuristic_alignment(problem)
        assert not heuristic.is_exact and "upper bound" in heuristic.how
        assert heuristic.cost >= exact.cost - 1e-9 * abs(exact.cost)
        cost = gauge.relabelling_cost(problem, np.array([heuristic.permutation]), np.array([heuristic.signs]))[0]
        assert heuristic.cost == pytest.approx(cost, rel=1e-12)             # it reports the cost it attains
        found += heuristic.cost <= exact.cost + 1e-9 * max(1.0, abs(exact.cost))
    assert found >= 5


def test_align_switches_at_the_one_cut_off():
    A, x, mu, var = _instance(3, 6)
    problem = _problem(mu, var, x, A)
    assert gauge.align(problem).is_exact
    assert not gauge.align(problem, exact_max_k=2).is_exact
    assert gauge.ENUMERATION_MAX_K == 7 and gauge.EXACT_MAX_K == 10


def test_assignment_is_exact_when_the_cost_separates():
    """M diagonal with vbar_j + M_jj the same for every j (as at the closed-form optimum): the quadratic term is
    Tr Lambda for every relabelling, and the linear assignment on -2 |C| is the exact minimum."""
    rng = np.random.default_rng(9)
    k = 4
    B = rng.standard_normal((k + 2, k))
    m = rng.uniform(0.1, 0.9, k)
    problem = gauge.AlignmentProblem(precision=B.T @ B + np.eye(k), mean_variance=1.0 - m, second_moment=np.diag(m),
                                     cross_moment=rng.standard_normal((k, k)))
    exact = gauge.exact_alignment(problem)
    assignment = gauge.assignment_alignment(-2.0 * np.abs(problem.cross_moment.T), problem.cross_moment.T)
    assert assignment.is_exact
    assert (assignment.permutation, assignment.signs) == (exact.permutation, exact.signs)
    assert assignment.cost + np.trace(problem.precision) == pytest.approx(exact.cost, rel=1e-12)
    # and it is not the minimum when the cost does not separate (M with off-diagonal terms)
    R = rng.standard_normal((k, k))
    problem_mixed = gauge.AlignmentProblem(problem.precision, problem.mean_variance,
                                           problem.second_moment + 0.5 * R @ R.T, problem.cross_moment)
    assert gauge.exact_alignment(problem_mixed).cost < gauge.relabelling_cost(
        problem_mixed, np.array([assignment.permutation]), np.array([assignment.signs]))[0] - 1.0


# --------------------------------------------------------------------------------- applying relabellings
def test_signed_permutations_order_and_count():
    labels = list(gauge.signed_permutations(3))
    assert len(labels) == len(set(labels)) == 48
    assert labels[:3] == [((0, 1, 2), (1, 1, 1)), ((0, 1, 2), (1, 1, -1)), ((0, 1, 2), (1, -1, 1))]
    G = gauge.signed_permutation_matrix((2, 0, 1), (1, -1, 1))
    np.testing.assert_array_equal(G @ np.array([10.0, 20.0, 30.0]), [30.0, -10.0, 20.0])


def test_relabel_encodings_puts_latents_in_source_order():
    A, x, mu, var = _instance(3, 7, n=20)
    alignment = gauge.exact_alignment(_problem(mu, var, x, A))
    mu2, var2 = gauge.relabel_encodings(mu, var, alignment)
    G = alignment.to_sources()
    np.testing.assert_array_equal(mu2, mu @ G.T)
    np.testing.assert_array_equal(var2, var @ np.abs(G).T)
    wrong = gauge.Alignment(alignment.permutation, tuple(-s for s in alignment.signs), 0.0, "exact", 0, "")
    assert not np.allclose(gauge.relabel_encodings(mu, var, wrong)[0], mu2)


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_relabelled_optimum_is_equally_optimal_and_only_the_right_relabelling_is(beta):
    """z -> G z maps the closed-form optimum to an optimum: the generated N x N objective (eq. 6 with every
    constant) is unchanged for every G; negating log-variances, or keeping the decoder, is not an optimum."""
    from dataclasses import replace
    rng = np.random.default_rng(3)
    A = rng.standard_normal((5, 3))
    Sx = A @ A.T + np.eye(5)
    o = closed_form_optimum(A, beta)
    L = float(gen.objective(*o.arrays(), Sx, beta))
    for perm, signs in gauge.signed_permutations(3):
        G = gauge.signed_permutation_matrix(perm, signs)
        assert float(gen.objective(*gauge.relabel_parameters(o, G).arrays(), Sx, beta)) == pytest.approx(L, rel=1e-12)
    G = gauge.signed_permutation_matrix((1, 2, 0), (-1, 1, -1))
    moved = gauge.relabel_parameters(o, G)
    kept_decoder = replace(moved, D=o.D)
    negated = replace(moved, b_sigma=G @ o.b_sigma)
    for broken in (kept_decoder, negated):
        assert float(gen.objective(*broken.arrays(), Sx, beta)) < L - 1e-6
