"""numerics.gauge_exact against brute force.

The independent route is plain enumeration: every signed permutation's cost by explicit loops over the cost's three
sums (no matrices, no vectorisation), and numerics.gauge.exact_alignment (batched enumeration, itself checked against
the Gaussian KL by loops in test_gauge.py). The bounds are checked against the minimum over every completion of a
partial assignment, found by the same loops. At k = 10 the planted relabelling G is the independent answer.
"""
import itertools
import math

import numpy as np
import pytest

from numerics import gauge
from numerics import gauge_exact as ge


# ------------------------------------------------------------------------------------------ brute force
def cost_by_loops(problem, perm, signs) -> float:
    """cost(pi, sigma) written out term by term (module docstring of numerics.gauge)."""
    L, v, M, C = problem.precision, problem.mean_variance, problem.second_moment, problem.cross_moment
    k = len(perm)
    total = 0.0
    for j in range(k):
        total += L[perm[j], perm[j]] * v[j] - 2.0 * signs[j] * C[perm[j], j]
        for m in range(k):
            total += L[perm[j], perm[m]] * signs[j] * signs[m] * M[j, m]
    return total


def completions(k, latents, sources, signs):
    """Every full (perm, signs) that extends latent latents[i] -> sources[i] with sign signs[i]."""
    free_latents = [j for j in range(k) if j not in latents]
    free_sources = [m for m in range(k) if m not in sources]
    for placed in itertools.permutations(free_sources):
        for flips in itertools.product((1, -1), repeat=len(free_latents)):
            perm, sgn = [0] * k, [0] * k
            for j, m, s in zip(latents, sources, signs):
                perm[j], sgn[j] = m, s
            for j, m, s in zip(free_latents, placed, flips):
                perm[j], sgn[j] = m, s
            yield tuple(perm), tuple(sgn)


def brute_minimum(problem, latents=(), sources=(), signs=()) -> float:
    return min(cost_by_loops(problem, p, s) for p, s in completions(problem.k, latents, sources, signs))


# ------------------------------------------------------------------------------------------ problems
def random_problem(k, seed, zero_m=False):
    """Random PD Lambda, PSD M (rank-deficient half the time), C of any sign, vbar > 0."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((k + 2, k))
    R = rng.standard_normal((k, k - (seed % 2)))
    M = np.zeros((k, k)) if zero_m else R @ R.T
    return gauge.AlignmentProblem(B.T @ B + np.eye(k), rng.uniform(0.05, 1.0, k), M, rng.standard_normal((k, k)))


def encoder_problem(k, seed, n=400, N=9):
    """From a (random) encoder: mu = a signed permutation of F x, plus noise that mixes the sources."""
    from deep.betavae.tie import alignment_problem
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((N, k))
    x = rng.standard_normal((n, k)) @ A.T + rng.standard_normal((n, N))
    F = np.linalg.solve(A.T @ A + np.eye(k), A.T)
    G = gauge.signed_permutation_matrix(rng.permutation(k), rng.choice([-1.0, 1.0], k)).T
    mu = x @ F.T @ G + 0.5 * rng.standard_normal((n, k)) + 0.3 * np.tanh(x @ rng.standard_normal((N, k)))
    return alignment_problem(mu, np.exp(rng.uniform(-2, 0, (n, k))), x, A)


def tied_problem(k):
    """Every relabelling ties pairwise: Lambda = I + 1 1^T, M = I, C = 0, vbar equal (cost = const, all 2^k k!)."""
    return gauge.AlignmentProblem(np.eye(k) + np.ones((k, k)), np.full(k, 0.5), np.eye(k), np.zeros((k, k)))


CASES = ([("random", k, s) for k in range(2, 8) for s in range(2)] + [("encoder", k, k) for k in range(2, 8)]
         + [("zero M", k, 3) for k in (3, 6)] + [("ties", k, 0) for k in (3, 6)])


def make(kind, k, seed):
    return {"random": lambda: random_problem(k, seed), "encoder": lambda: encoder_problem(k, seed),
            "zero M": lambda: random_problem(k, seed, zero_m=True), "ties": lambda: tied_problem(k)}[kind]()


# ------------------------------------------------------------------------------------------ the search
@pytest.mark.parametrize("kind,k,seed", CASES)
def test_branch_and_bound_is_the_enumerated_minimum(kind, k, seed):
    problem = make(kind, k, seed)
    brute = gauge.exact_alignment(problem)
    if k <= 4:                                         # the loops confirm the enumeration where they are cheap
        assert brute.cost == pytest.approx(brute_minimum(problem), rel=1e-12, abs=1e-12)
    result = ge.branch_and_bound(problem)
    assert result.proved_optimal and result.stopped is None
    scale = 1e-9 * max(1.0, abs(brute.cost))
    assert abs(result.cost - brute.cost) <= scale
    # the argmin attains the cost it reports, recomputed by the loops
    assert cost_by_loops(problem, result.permutation, result.signs) == pytest.approx(result.cost, rel=1e-12, abs=1e-12)
    assert result.lower_bound <= brute.cost + 1e-12 and result.lower_bound >= brute.cost - 2 * result.tolerance
    assert sorted(result.permutation) == list(range(k)) and set(result.signs) <= {1, -1}


@pytest.mark.parametrize("k", [5, 6])
def test_a_node_limit_brackets_the_minimum(k):
    problem = random_problem(k, 11)
    true = gauge.exact_alignment(problem).cost
    result = ge.branch_and_bound(problem, node_limit=3)
    assert not result.proved_optimal and result.stopped == "node limit 3"
    assert result.lower_bound <= true <= result.cost
    assert result.cost == pytest.approx(cost_by_loops(problem, result.permutation, result.signs), rel=1e-12)
    record = result.to_alignment()
    assert not record.is_exact and "upper bound" in record.how and record.lower_bound == result.lower_bound
    assert record.to_json()["lower_bound"] == result.lower_bound
    # given nodes enough, the same search proves it
    assert ge.branch_and_bound(problem).proved_optimal


def test_a_time_limit_brackets_the_minimum():
    problem = random_problem(7, 4)
    true = gauge.exact_alignment(problem).cost
    result = ge.branch_and_bound(problem, node_limit=None, time_limit=0.0)
    assert not result.proved_optimal and result.stopped.startswith("time limit")
    assert result.lower_bound <= true <= result.cost


# ------------------------------------------------------------------------------------------ the bounds
BOUNDS = [ge.relaxation_bound, ge.assignment_bound, ge.node_bound]


def random_prefixes(k, rng, count):
    """Partial assignments at every depth 0..k (root, interior, one free latent, leaf), latents in random order."""
    for _ in range(count):
        d = int(rng.integers(0, k + 1))
        latents = tuple(int(j) for j in rng.permutation(k)[:d])
        sources = tuple(int(m) for m in rng.permutation(k)[:d])
        yield latents, sources, tuple(int(s) for s in rng.choice([-1, 1], d))


@pytest.mark.parametrize("bound", BOUNDS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("kind,k,seed", [("random", 4, 0), ("random", 5, 1), ("encoder", 5, 2), ("zero M", 4, 3),
                                         ("ties", 4, 0)])
def test_every_bound_is_below_every_completion(bound, kind, k, seed):
    problem = make(kind, k, seed)
    rng = np.random.default_rng(100 + seed)
    depths = set()
    for latents, sources, signs in random_prefixes(k, rng, 25):
        depths.add(len(latents))
        best = brute_minimum(problem, latents, sources, signs)
        value = bound(problem, latents, sources, signs)
        assert value <= best + 1e-9 * max(1.0, abs(best)), (latents, sources, signs, value, best)
        if len(latents) == k:                            # a leaf: the bound is the cost itself
            assert value == pytest.approx(best, rel=1e-12, abs=1e-12)
    assert {0, k}.issubset(depths) or len(depths) >= 4


def test_the_bounds_are_tight_where_the_search_needs_them_and_the_check_can_fail():
    """On a trained-network-like problem the root bound is within 0.5 % of the minimum (measured 0.1 %), and the
    completion check is not vacuous: a bound raised by 1e-6 fails it at a leaf, where the bound is the cost."""
    problem, perm, signs = fig2_like_problem(0, 0.1)
    true = cost_by_loops(problem, perm, signs)
    assert true - 0.005 * abs(true) <= ge.node_bound(problem) <= true
    small = random_problem(4, 2)
    leaf = ((0, 1, 2, 3), (2, 0, 3, 1), (1, -1, -1, 1))
    assert not ge.node_bound(small, *leaf) + 1e-6 <= brute_minimum(small, *leaf)


def test_the_ridge_split_is_the_assignment_dual():
    """sum a + sum b equals the brute-force assignment minimum of lam_m v_j, and e = lam v - a - b is >= 0."""
    rng = np.random.default_rng(5)
    for _ in range(20):
        lam, v = rng.uniform(0.5, 20, 6), rng.uniform(0.0, 1.5, 6)
        constant, e = ge._ridge_split(lam, v)
        brute = min(sum(lam[p[j]] * v[j] for j in range(6)) for p in itertools.permutations(range(6)))
        assert constant == pytest.approx(brute, rel=1e-12)
        assert np.all(e >= 0) and e.min() == 0.0                     # tight: some pair meets its constraint


def test_bad_partial_assignments_are_refused():
    problem = random_problem(3, 0)
    for args in [((0, 0), (1, 2), (1, 1)), ((0, 1), (1, 1), (1, 1)), ((0,), (1,), (2,)), ((0, 1), (1,), (1, 1))]:
        with pytest.raises(ValueError, match="partial assignment"):
            ge.relaxation_bound(problem, *args)


# ------------------------------------------------------------------------------------------ align() and k = 10
def test_align_uses_the_branch_and_bound_between_the_limits():
    problem = encoder_problem(8, 1)
    a = gauge.align(problem)
    assert gauge.ENUMERATION_MAX_K == 7 < problem.k <= gauge.EXACT_MAX_K
    assert a.is_exact and a.how.startswith("branch and bound") and a.lower_bound is None
    assert "lower_bound" not in a.to_json()
    assert not gauge.align(problem, exact_max_k=7).is_exact                # the local search above the limit
    assert gauge.align(encoder_problem(5, 1)).how.startswith("all 2^5 5!")  # enumeration below
    stopped = gauge.align(problem, node_limit=2)
    assert not stopped.is_exact and stopped.lower_bound <= a.cost <= stopped.cost


def fig2_like_problem(seed, noise, n=1500):
    """As a trained Fig. 2 network looks to the alignment: mu = x F^T G + noise, var = diag(E), x from eq. (17)
    with the 64 x 10 digit mixing, G a random signed permutation (latent j = sign_j * source perm_j)."""
    from deep.betavae.data import fig2_dataset, ground_truth_posterior, mixing_matrix, sklearn_digits
    from deep.betavae.tie import alignment_problem
    A = mixing_matrix(sklearn_digits(), 10)
    rng = np.random.default_rng(seed)
    x = fig2_dataset(A, n, rng).observed
    post = ground_truth_posterior(A)
    perm, signs = rng.permutation(10), rng.choice([-1.0, 1.0], 10)
    G = gauge.signed_permutation_matrix(perm, signs).T
    mu = x @ post.F.T @ G + noise * rng.standard_normal((n, 10))
    return alignment_problem(mu, np.tile(np.diag(post.E), (n, 1)), x, A), tuple(int(p) for p in perm), \
        tuple(int(s) for s in signs)


@pytest.mark.parametrize("seed,noise", [(0, 0.1), (1, 0.5), (2, 1.0)])
def test_k10_proves_the_planted_relabelling(seed, noise):
    problem, perm, signs = fig2_like_problem(seed, noise)
    result = ge.branch_and_bound(problem)
    assert result.proved_optimal and (result.permutation, result.signs) == (perm, signs)
    assert result.cost == pytest.approx(cost_by_loops(problem, perm, signs), rel=1e-12)
    # no single sign flip or swap of the planted relabelling is cheaper (a local check, independent of the search)
    for j in range(10):
        flipped = list(signs)
        flipped[j] = -flipped[j]
        assert cost_by_loops(problem, perm, flipped) > result.cost
    for j, l in itertools.combinations(range(10), 2):
        swapped = list(perm)
        swapped[j], swapped[l] = perm[l], perm[j]
        assert cost_by_loops(problem, swapped, signs) > result.cost
    assert result.nodes < 2000 and math.isfinite(result.lower_bound)
