"""optimal_beta at large k: the fast route (flint Gram/rank/charpoly, Ogita-Aishima eigenvectors, certified sweep of the
optimal assignment, arb per-unit sums) against independent routes.

Routes: (a) the reference route it replaced (``optimal_beta_reference``: pure-Python exact algebra, mpmath eigsy, a grid
of 1500 assignments per regime), every field equal at k = 5 ... 24 and on structured problems; (b) brute force over all
2^k k! signed permutations in mpmath on an eigendecomposition of its own (mpmath eigsy at 100 digits of a Gram matrix
formed here in Fractions), and beta* as the root of mpmath.diff of that branch's TIE (no h, no sweep, no flint); (c) the
exact decisions (repeated eigenvalues, rank) against the Faddeev-LeVerrier and Gauss-Jordan routes and against
matrices built with a known spectrum; (d) the sweep's certificate fails on an interval that holds a crossing.
"""
import itertools
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from scipy.optimize import brentq

import numerics.certify as certify
from numerics import exact_algebra as ea
from numerics.certify import PrecisionError
from numerics.eigen_refine import refined_eigh
from numerics.optimal_beta import optimal_beta, optimal_beta_reference, tie_curve_mp
from numerics.tie_envelope import tie_envelope
from numerics.tie_sweep import Floats, certified, sweep


def _summary(r):
    """Every field the two routes must share. Left out: MIE at beta* where it is rounding noise around 0 (beta* = 1;
    compared by _same_mie) and the one-sided derivatives at crossings, where the reference route is wrong beyond
    ~48 working digits (it takes the branches from float64 assignments at bc -+ 10^(-dps/3) bc, the same float; the
    sweep knows them): test_crossing_derivatives_are_the_branches_one_sided_slopes checks those."""
    return dict(beta=r.beta_star, tie=r.tie_star, kind=r.kind, digits=r.confirmed_digits >= r.digits,
                minima=[(m.beta, m.tie, m.kind, m.active_units) for m in r.local_minima],
                kinks=[(x.beta, x.type, x.local_minimum) + ((x.left_derivative, x.right_derivative)
                                                            if x.type == "threshold" else ()) for x in r.kinks],
                perm=r.alignment.permutation, overlaps=r.overlaps, thresholds=r.collapse_thresholds,
                eigenvalues=r.eigenvalues, active=r.active_units, plateau=r.tie_plateau, warnings=r.warnings)


def _same(fast, ref):
    assert _summary(fast) == _summary(ref)
    noise = mpmath.mpf(10) ** -(fast.working_dps[0] - 10)
    assert abs(mpmath.mpf(fast.mie_at_beta_star) - mpmath.mpf(ref.mie_at_beta_star)) <= noise * max(
        1, abs(mpmath.mpf(ref.mie_at_beta_star)))


def _rotation(k):
    """A rational orthogonal (k + 1) x (k + 1) matrix: 3-4-5 rotations on consecutive pairs."""
    R = [[Fraction(int(i == j)) for j in range(k + 1)] for i in range(k + 1)]
    for i in range(0, k, 2):
        c, s = Fraction(3, 5), Fraction(4, 5)
        R[i][i], R[i][i + 1], R[i + 1][i], R[i + 1][i + 1] = c, -s, s, c
    return R


def _rotated_diagonal(values):
    """R diag(values) (N = k + 1 rows): orthogonal columns of norms |values|, A^T A = diag(values^2) exactly."""
    k = len(values)
    R = _rotation(k)
    return [[R[i][j] * Fraction(values[j]) if j < k else Fraction(0) for j in range(k)] for i in range(k + 1)]


def _structured():
    rng = np.random.default_rng(5)
    B = rng.integers(-4, 5, size=(8, 5)).tolist()
    near = rng.standard_normal((9, 6))
    near[:, 5] = near[:, 4] * (1 + 1e-12)
    Q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    return {
        "repeated": _rotated_diagonal([3, 3, 2, 1, Fraction(1, 2), Fraction(1, 3)]),
        "orthogonal-with-zero-column": _rotated_diagonal([3, Fraction(5, 2), 2, 1, Fraction(1, 2), 0]),
        "rank-deficient": [row + [row[0] + row[1]] for row in B],
        "near-parallel": near,
        "eigenvalue-cluster": Q[:, :6] * np.array([2.0, 1.5, 1.5 + 1e-13, 1.0, 0.7, 0.3]),
        "wide-scale": rng.standard_normal((10, 6)) * np.array([1e3, 1, 1e-3, 1, 5, 1e-2]),
    }


# ---------------------------------------------------------------- (a) the reference route
@pytest.mark.parametrize("k, seed", [(5, 0), (6, 1), (7, 2), (8, 3), (12, 4)])
def test_fast_route_equals_reference_route_at_50_digits(k, seed):
    A = np.random.default_rng(seed).standard_normal((k + 3, k))
    _same(optimal_beta(A, 50), optimal_beta_reference(A, 50))


def test_fast_route_equals_reference_route_at_k_24():
    A = np.random.default_rng(24).standard_normal((48, 24))
    fast, ref = optimal_beta(A, 50), optimal_beta_reference(A, 50)
    _same(fast, ref)
    assert sum(x.type == "crossing" for x in fast.kinks) == 3


def test_crossing_derivatives_are_the_branches_one_sided_slopes():
    """At a crossing TIE's slope jumps down (the envelope of maxima of smooth overlaps): left > right, each equal to
    the one-sided difference quotients of the high-precision TIE curve, Richardson-extrapolated (h = 1e-8 beta and
    h / 2: error ~ h^2)."""
    A = np.random.default_rng(4).standard_normal((15, 12))
    r = optimal_beta(A, 50)
    crossings = [x for x in r.kinks if x.type == "crossing"]
    assert len(crossings) == 2
    for x in crossings:
        with mpmath.workdps(80):
            bc = mpmath.mpf(x.beta)
            h = bc * mpmath.mpf("1e-8")
            t = {m: tie_curve_mp(A, bc + m * h / 2, dps=80) for m in (-2, -1, 0, 1, 2)}
            left = 2 * (t[0] - t[-1]) / (h / 2) - (t[0] - t[-2]) / h
            right = 2 * (t[1] - t[0]) / (h / 2) - (t[2] - t[0]) / h
            assert float(x.left_derivative) > float(x.right_derivative)
            for slope, reported in ((left, x.left_derivative), (right, x.right_derivative)):
                assert abs(slope - mpmath.mpf(reported)) < 1e-13 * abs(slope)


@pytest.mark.parametrize("name", list(_structured()))
def test_structured_problems_agree_with_the_reference(name):
    A = _structured()[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(optimal_beta(A, 30), optimal_beta_reference(A, 30))


def test_a_crossing_the_grid_misses_is_found_and_is_real():
    """Tiny A: all six thresholds lie within ~1e-10 of 1, and the best branch changes just below the first one,
    closer to it than any of the reference grid's points. Brute force over all 720 permutations in mpmath confirms
    the change on both sides of the reported crossing."""
    A = np.random.default_rng(7).standard_normal((10, 6)) * 1e-6
    fast, ref = optimal_beta(A, 30), optimal_beta_reference(A, 30)
    crossings = [x for x in fast.kinks if x.type == "crossing"]
    assert len(crossings) == 1 and not any(x.type == "crossing" for x in ref.kinks)
    assert (fast.beta_star, fast.tie_star) == (ref.beta_star, ref.tie_star)
    env = tie_envelope(A, 60)
    bc = env.ctx.mpf(crossings[0].beta)
    best = []
    for b in (bc * (1 - env.ctx.mpf(10) ** -14), bc * (1 + env.ctx.mpf(10) ** -14)):
        act = env.active(b)
        vals = {p: env.ctx.fsum(env.absQ[p[j]][j] * env.weight(j, b) for j in act)
                for p in itertools.permutations(range(6))}
        best.append(max(vals, key=vals.get))
    assert best[0] != best[1]


# ---------------------------------------------------------------- (b) brute force over signed permutations
def _independent(A, dps=100):
    """Eigen-data of A^T A from a Gram matrix formed here in Fractions and mpmath's eigsy (no numerics code)."""
    rows = [[Fraction(x) for x in row] for row in np.asarray(A).tolist()]
    k = len(rows[0])
    gram = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    ctx = mpmath.MPContext()
    ctx.dps = dps
    E, Q = ctx.eigsy(ctx.matrix([[ctx.mpf(x.numerator) / x.denominator for x in row] for row in gram]))
    order = sorted(range(k), key=lambda i: -E[i])
    return ctx, [E[i] for i in order], [[Q[i, order[j]] for j in range(k)] for i in range(k)]


def _brute_tie(ctx, a, Q, beta, signed_perms):
    """TIE = sum a - 1/2 sum log lambda + 1/2 sum log max(lambda / beta, 1) - max over signed permutations of the
    overlap sum_j sigma_j Q[pi_j, j] w_j (eq. 3 at the closed-form optimum); also the maximising (pi, sigma)."""
    lam = [1 + x for x in a]
    w = [ctx.sqrt(x * (l - beta)) if l > beta else ctx.zero for x, l in zip(a, lam)]
    base = (ctx.fsum(a) - ctx.fsum(ctx.log(l) for l in lam) / 2
            + ctx.fsum(ctx.log(l / beta) for l in lam if l > beta) / 2)
    top, arg = None, None
    for p, s in signed_perms:
        v = ctx.fsum(s[j] * Q[p[j]][j] * w[j] for j in range(len(a)))
        if top is None or v > top:
            top, arg = v, (p, s)
    return base - top, arg


@pytest.mark.parametrize("k, seed", [(5, 11), (6, 12)])
def test_beta_star_by_brute_force_over_signed_permutations(k, seed):
    A = np.random.default_rng(seed).standard_normal((k + 2, k))
    r = optimal_beta(A, 50)
    assert r.kind == "smooth"
    ctx, a, Q = _independent(A)
    signed = [(p, s) for p in itertools.permutations(range(k)) for s in itertools.product((1, -1), repeat=k)]
    b0 = ctx.mpf(r.beta_star)
    t0, (perm, signs) = _brute_tie(ctx, a, Q, b0, signed)
    assert abs(t0 - ctx.mpf(r.tie_star)) < ctx.mpf(10) ** -45 * max(1, abs(t0))
    assert perm == r.alignment.permutation

    def branch(b):                         # TIE of the maximising signed permutation, smooth near beta*
        lam = [1 + x for x in a]
        return (ctx.fsum(a) - ctx.fsum(ctx.log(l) for l in lam) / 2
                + ctx.fsum(ctx.log(l / b) for l in lam if l > b0) / 2
                - ctx.fsum(signs[j] * Q[perm[j]][j] * ctx.sqrt(a[j] * (lam[j] - b)) for j in range(k) if lam[j] > b0))
    root = ctx.findroot(lambda b: ctx.diff(branch, b), b0)
    assert ctx.nstr(root, 50, strip_zeros=False) == r.beta_star
    # the envelope is higher on both sides (brute force over all signed permutations)
    for delta in ("1e-6", "1e-20"):
        for side in (-1, 1):
            assert _brute_tie(ctx, a, Q, b0 * (1 + side * ctx.mpf(delta)), signed)[0] > t0


# ---------------------------------------------------------------- (c) exact decisions and the eigensolver
def test_repeated_eigenvalue_and_rank_equal_the_pure_python_routes():
    rng = np.random.default_rng(0)
    for _ in range(60):
        k = int(rng.integers(1, 7))
        M = rng.integers(-2, 3, size=(k + int(rng.integers(0, 3)), k)).tolist()
        if not np.any(M):
            continue
        fast, ref = ea.exact_problem(M), ea.exact_problem_reference(M)
        assert (fast.gram, fast.rank, fast.repeated) == (ref.gram, ref.rank, ref.repeated), M


def test_repeated_eigenvalue_decided_beyond_the_charpoly_limit():
    """k = 14 > EXACT_CHARPOLY_MAX_K, spectra known by construction (orthogonal columns: A^T A is diagonal)."""
    distinct = [Fraction(j + 2, 3) for j in range(14)]
    assert ea.exact_problem(_rotated_diagonal(distinct)).repeated is False
    assert ea.exact_problem_reference(_rotated_diagonal(distinct)).repeated is None       # the old route could not say
    twice = distinct[:13] + [distinct[6]]
    assert ea.exact_problem(_rotated_diagonal(twice)).repeated is True
    # a dense matrix with a repeated eigenvalue: M = R^T diag(1, 2, 1, 3, 4, ..., 13) R, R a rational rotation
    R = _rotation(14)
    D = [1, 2, 1] + list(range(3, 14))
    M = [[sum(R[m][i] * D[m] * R[m][j] for m in range(14)) for j in range(14)] for i in range(14)]
    assert all(M[i][j] != 0 for i, j in ((0, 1), (2, 3))) and ea.has_repeated_eigenvalue(M) is True
    M[0][0] += Fraction(1, 10 ** 30)
    assert ea.has_repeated_eigenvalue(M) is False


def test_rank_of_a_large_deficient_matrix():
    rng = np.random.default_rng(3)
    B = rng.integers(-9, 10, size=(40, 30))
    A = np.concatenate([B, B[:, :3] @ rng.integers(-2, 3, size=(3, 2))], axis=1).tolist()   # 2 dependent columns
    assert ea.exact_problem(A).rank == 30


def test_refined_eigenpairs_equal_mpmath_eigsy_to_100_digits():
    A = np.random.default_rng(7).standard_normal((20, 12))
    gram = ea.exact_problem(A).gram
    a, X = refined_eigh(gram, bits=360)
    ctx, a_ref, Q_ref = _independent(A, dps=110)
    assert max(abs(ctx.mpf(x) - y) for x, y in zip(a, a_ref)) < ctx.mpf(10) ** -100 * a_ref[0]
    for j in range(12):                 # columns agree up to sign
        col = [ctx.mpf(X[i, j].mid()) for i in range(12)]
        s = 1 if ctx.fsum(c * q for c, q in zip(col, (Q_ref[i][j] for i in range(12)))) > 0 else -1
        assert max(abs(col[i] - s * Q_ref[i][j]) for i in range(12)) < ctx.mpf(10) ** -100


def test_refinement_refuses_an_unresolved_cluster():
    Q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 6)))
    M = Q @ np.diag([3.0, 2.0, 2.0 + 1e-14, 1.0, 0.5, 0.25]) @ Q.T
    gram = [[Fraction(x) for x in row] for row in ((M + M.T) / 2).tolist()]
    assert refined_eigh(gram, bits=200) is None


# ---------------------------------------------------------------- (d) the sweep and its certificate
CROSSING_A = [["48/29", "-6/29", "-32/29"], ["-10/13", "24/13", "-3/2"], ["531/377", "3768/1885", "252/145"]]


def test_certificate_fails_across_a_crossing():
    """The k = 3 problem of test_optimal_beta.py whose best branch changes at beta = 3.626...: (2, 1, 0) is certified
    optimal below, not on an interval that reaches beyond; brute force over the 6 permutations agrees."""
    env = tie_envelope(CROSSING_A, dps=30)
    f = Floats(env)
    assert certified(f, (2, 1, 0), 0.0, 1.8, 0.9) and certified(f, (2, 1, 0), 3.0, 3.62, 3.31)
    assert not certified(f, (2, 1, 0), 3.0, 3.7, 3.35) and not certified(f, (1, 2, 0), 3.0, 3.62, 3.31)
    assert certified(f, (1, 2, 0), 3.64, 3.9, 3.77)
    for b, expected in ((3.6, (2, 1, 0)), (3.65, (1, 2, 0))):
        w = f.w(b)
        assert max(itertools.permutations(range(3)), key=lambda p: float(f.own(p) @ w)) == expected
    assert [p for _, _, p in sweep(env, env.ctx.zero, env.thresholds[0])] == [(2, 1, 0), (1, 2, 0)]


class _Data:
    """The float data the certificate reads (a_j and a coefficient table C[m, j]), for a made-up problem."""

    def __init__(self, a, C):
        self.a_float, self.absQ_float, self.k = np.asarray(a, dtype=float), np.asarray(C, dtype=float), len(a)


def test_certificate_sees_a_branch_that_wins_only_inside_the_interval():
    """Three units, C = I except C[sigma_j, j] = 1 + d_j for the 3-cycle sigma = (1, 2, 0): sigma gains
    sum_j d_j w_j(beta) over the identity, negative at both ends of [0, 1.444] and positive on (1.2692, 1.4344)
    (roots found here by brentq). The identity is optimal at both ends, so only a bound that holds inside the
    interval (tangents above the concave w_j, chords below) refuses it; chords and tangents swapped accept it."""
    a, d, sigma = [0.591, 2.556, 0.444], [-0.968, 0.111, 0.552], (1, 2, 0)
    C = np.eye(3)
    for j in range(3):
        C[sigma[j], j] = 1 + d[j]
    f = Floats(_Data(a, C))

    def gain(b):
        return float(np.dot(d, f.w(b)))
    top = 1 + min(a)
    assert gain(0.0) < 0 and gain(top) < 0
    r1, r2 = brentq(gain, 1.0, 1.386), brentq(gain, 1.386, top - 1e-9)
    assert 1.269 < r1 < 1.27 and 1.434 < r2 < 1.435
    assert not certified(f, (0, 1, 2), 0.0, top, top / 2)
    assert certified(f, (0, 1, 2), 0.0, 1.1, 0.55) and certified(f, (0, 1, 2), 1.2, 1.26, 1.23)


# ---------------------------------------------------------------- digits and refusals on the fast route
def test_many_digits_at_k_6_extend_the_50_digit_answer():
    A = np.random.default_rng(6).standard_normal((9, 6))
    r1000, r50 = optimal_beta(A, 1000), optimal_beta(A, 50)
    assert r1000.confirmed_digits >= 1000 and len(r1000.beta_star.replace(".", "")) == 1000
    assert r1000.beta_star[:45] == r50.beta_star[:45]


def test_refuses_unconfirmed_digits_on_the_fast_route(monkeypatch):
    monkeypatch.setattr(certify, "WORKING_EXTRA_DIGITS", (2, 4))
    monkeypatch.setattr(certify, "RETRIES", 0)
    with pytest.raises(PrecisionError):
        optimal_beta(np.random.default_rng(6).standard_normal((9, 6)), digits=20)
