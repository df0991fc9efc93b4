"""The TIE-optimal beta: high-precision numerics against independent routes.

Routes: (a) a dense float grid + scipy's minimize_scalar on ``numerics.optimum.closed_form_terms`` (SVD and
linear_sum_assignment, no mpmath); (b) the exact algebraic root from ``derivations.exact_beta`` (SymPy
resultants and CRootOf, no mpmath eigensolver), and a hand-squared polynomial for the paper's problem;
(c) TIE beside beta* at high precision; (d) a kink minimum; (e) bad inputs.
"""
import doctest
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize_scalar

import derivations.exact_beta as exact_beta_mod
import numerics.certify as certify
import numerics.exact_algebra as exact_algebra
import numerics.optimal_beta as ob
import numerics.tie_envelope as tie_envelope
import numerics.tie_minima as tie_minima
from derivations.exact_beta import exact_optimal_beta
from numerics.model import fig3_mixing, paper_mixing
from numerics.optimal_beta import mie_curve_mp, optimal_beta, tie_curve_mp
from numerics.certify import PrecisionError
from numerics.optimum import closed_form_terms, optimum_alignment
from numerics.model import spectrum

ROOT = Path(__file__).resolve().parent.parent


def paper_matrix() -> sp.Matrix:
    """The paper's A as exact SymPy rationals (numerics.model's exact variant, the one definition)."""
    return sp.Matrix(paper_mixing(exact=True))


def fig3_matrix() -> sp.Matrix:
    return sp.Matrix(fig3_mixing(exact=True))
PAPER = paper_mixing()
FIG3 = fig3_mixing()                                         # binary 0.73, as a float array
FIG3_EXACT = fig3_mixing(exact=True)                         # decimal 73/100, as Fractions
FIG3_DECIMAL_STRINGS = [["2.73", "0.73"], ["0.73", "2.73"]]


def _float_reference(A):
    """Dense float grid over beta (log-spaced, plus every threshold) then bounded Brent refinement."""
    lam = 1 + np.linalg.svd(A, compute_uv=False) ** 2
    grid = np.unique(np.concatenate([np.geomspace(0.05, lam.max() * 1.05, 2500), lam, lam * (1 - 1e-9),
                                     lam * (1 + 1e-9)]))
    tie = np.array([closed_form_terms(A, b).tie for b in grid])
    i = int(np.argmin(tie))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = minimize_scalar(lambda b: closed_form_terms(A, b).tie, bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-13})
    return (res.x, res.fun) if res.fun <= tie[i] else (grid[i], tie[i])


def _random_problem(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 5))
    N = k + int(rng.integers(0, 4))
    return rng.normal(size=(N, k)) * rng.uniform(0.3, 3.0, size=k)


# ---------------------------------------------------------------- (a) float grid + minimize_scalar
@pytest.mark.parametrize("name", ["paper", "fig3"] + [f"random{s}" for s in range(6)])
def test_beta_star_agrees_with_float_grid_search(name):
    A = {"paper": PAPER, "fig3": FIG3}.get(name)
    if A is None:
        A = _random_problem(int(name[6:]))
    r = optimal_beta(A, digits=30)
    b_ref, t_ref = _float_reference(A)
    # a quadratic minimum: float TIE noise ~1e-15 limits the float beta to ~1e-7
    assert abs(float(r.beta_star) - b_ref) <= 5e-7 * max(1.0, b_ref), (r.beta_star, b_ref)
    assert abs(float(r.tie_star) - t_ref) <= 1e-12 * max(1.0, abs(t_ref))
    # the float closed form evaluated at the certified beta* is not above the float minimum (beyond noise)
    assert closed_form_terms(A, float(r.beta_star)).tie <= t_ref + 1e-13 * max(1.0, abs(t_ref))
    # branch crossings bend TIE downwards: never a minimum
    assert not any(k.local_minimum for k in r.kinks if k.type == "crossing")


def test_mp_tie_curve_matches_float_closed_form():
    for A in (PAPER, FIG3, _random_problem(3)):
        for b in (0.3, 1.0, 1.2, 2.7, 9.0, 80.0):
            assert float(tie_curve_mp(A, b, dps=30)) == pytest.approx(closed_form_terms(A, b).tie, rel=1e-12, abs=1e-12)
            assert float(mie_curve_mp(A, b, dps=30)) == pytest.approx(closed_form_terms(A, b).mie, rel=1e-9, abs=1e-12)


# ---------------------------------------------------------------- (b) the exact algebraic root
@pytest.mark.parametrize("name", ["paper", "fig3"])
def test_50_digits_equal_the_exact_crootof(name):
    A_num, A_exact = {"paper": (PAPER, paper_matrix()), "fig3": (FIG3_EXACT, fig3_matrix())}[name]
    r = optimal_beta(A_num, digits=50)
    assert r.kind == "smooth" and r.confirmed_digits >= 50
    e = exact_optimal_beta(A_exact, r.beta_star)
    assert e.kind == "smooth"
    exact60 = sp.N(e.root, 60)                              # SymPy's own root refinement
    with mpmath.workdps(80):
        rounded = mpmath.nstr(mpmath.mpf(str(exact60)), 50, strip_zeros=False)
    assert rounded == r.beta_star                           # all 50 printed digits are right
    # irreducible, vanishes at the root, isolating interval contains the 50-digit value
    P = e.polynomial
    assert P.is_irreducible and P.degree() == 6
    lo, hi = e.interval
    assert lo <= sp.Rational(r.beta_star) <= hi and P.count_roots(lo, hi) == 1
    assert abs(sp.N(P.as_expr().subs(exact_beta_mod.beta, exact60), 60)) < sp.Float("1e-50") * sum(abs(c) for c in P.all_coeffs())


def test_paper_polynomial_by_squaring_by_hand():
    """Independent of the resultant machinery: square the stationarity equation of the paper's problem twice.

    a = (261/4, 1/4), |Q| = 1/sqrt2 everywhere; both units active: 2 sqrt2 / beta = X + Y,
    X^2 = a1 / (1 + a1 - beta), Y^2 = a2 / (1 + a2 - beta).
    """
    b = sp.Symbol("beta")
    a1, a2 = sp.Rational(261, 4), sp.Rational(1, 4)
    X2, Y2 = a1 / (1 + a1 - b), a2 / (1 + a2 - b)
    expr = 32 * X2 / b ** 2 - (8 / b ** 2 + X2 - Y2) ** 2          # from (2 sqrt2/b - X)^2 = Y^2
    num = sp.Poly(sp.numer(sp.together(expr)), b)
    r = optimal_beta(PAPER, digits=50)
    e = exact_optimal_beta(paper_matrix(), r.beta_star)
    q, rem = sp.div(num, sp.Poly(e.polynomial.as_expr(), b))
    assert rem.is_zero
    # and the other local minimum (one unit collapsed): 1/beta = sqrt(a1 / (2 (1 + a1 - beta)))
    second = [m for m in r.local_minima if m.active_units == (0,)]
    assert len(second) == 1
    e2 = exact_optimal_beta(paper_matrix(), second[0].beta)
    assert sp.expand(e2.polynomial.as_expr() - (261 * b ** 2 + 8 * b - 530).subs(b, exact_beta_mod.beta)) == 0
    assert abs(sp.N(e2.root, 60) - sp.Float(second[0].beta, 60)) < sp.Float("1e-49")


def test_generic_two_by_two_with_irrational_eigenvalues():
    A = [[Fraction(3, 2), Fraction(-7, 5)], [Fraction(2, 3), Fraction(9, 4)], [Fraction(1, 7), Fraction(1, 2)]]
    r = optimal_beta(A, digits=40)
    e = exact_optimal_beta(sp.Matrix([[sp.Rational(x.numerator, x.denominator) for x in row] for row in A]), r.beta_star)
    assert sp.Poly(e.charpoly).is_irreducible                 # the a_j are quadratic irrationals
    assert abs(sp.N(e.root, 50) - sp.Float(r.beta_star, 50)) < sp.Float("1e-39")


def test_crossing_polynomial_for_a_three_unit_problem():
    """k = 3 with rational Q: the optimal permutation switches at a rational beta (linear polynomial)."""
    A = [["48/29", "-6/29", "-32/29"], ["-10/13", "24/13", "-3/2"], ["531/377", "3768/1885", "252/145"]]
    r = optimal_beta(A, digits=40)
    crossings = [k for k in r.kinks if k.type == "crossing"]
    assert len(crossings) == 1 and not crossings[0].local_minimum
    e = exact_optimal_beta(sp.Matrix([[sp.Rational(x) for x in row] for row in A]), crossings[0].beta)
    assert e.kind == "kink" and e.kink_type == "crossing" and e.polynomial.degree() == 1
    assert abs(sp.N(e.root, 50) - sp.Float(crossings[0].beta, 50)) < sp.Float("1e-38")


# ---------------------------------------------------------------- (c) TIE beside beta*
@pytest.mark.parametrize("A", [PAPER, FIG3_EXACT], ids=["paper", "fig3"])
def test_tie_is_minimal_beside_beta_star(A):
    r = optimal_beta(A, digits=50)
    with mpmath.workdps(100):
        b = mpmath.mpf(r.beta_star)
        t0 = tie_curve_mp(A, b, dps=100)
        assert abs(t0 - mpmath.mpf(r.tie_star)) < mpmath.mpf("1e-48")
        for delta in ("1e-5", "1e-12", "1e-20", "1e-30"):
            for side in (-1, 1):
                tb = tie_curve_mp(A, b + side * mpmath.mpf(delta), dps=100)
                assert tb > t0, (delta, side)
    # every other local minimum is higher
    assert all(mpmath.mpf(m.tie) > mpmath.mpf(r.tie_star) for m in r.local_minima if m.beta != r.beta_star)


def test_paper_problem_details():
    r = optimal_beta(PAPER, digits=50)
    assert r.eigenvalues[0].startswith("65.25") and r.eigenvalues[1].startswith("0.25")
    assert [t[:4] for t in r.collapse_thresholds] == ["1.25", "66.2"]
    assert [m.active_units for m in r.local_minima] == [(0, 1), (0,)]
    # |Q| = 1/sqrt2 everywhere: both permutations give the same TIE, the labelling is not identifiable
    assert r.alignment.unique is False and set(r.alignment.tied_permutations) == {(0, 1), (1, 0)}
    assert r.overlaps == ("0.707106781187",) * 2 and r.collapsed_units == () and r.active_units == (0, 1)
    assert r.mie_optimal_beta == "1"
    # float A and exact strings describe the same matrix here (0.5 and 1 are binary-exact)
    assert optimal_beta([["1", "1/2"], ["1/2", "1"]] + [["1/2", "1/2"]] * 126, digits=50).beta_star == r.beta_star


def test_alignment_at_beta_star_is_the_closed_forms_gauge_alignment():
    """k = 5 > ENUMERATE_MAX_K (the float assignment, ties not searched): the permutation, the overlaps and the
    cost at beta* agree with the float64 closed form's alignment (numpy SVD, numerics.optimum); the signs are
    relative to each route's eigenvector signs, so only their product with Q's signs is compared."""
    A = np.random.default_rng(1).standard_normal((7, 5)) / np.sqrt(5)
    r = optimal_beta(A, digits=15)
    spec = spectrum(A)
    closed = optimum_alignment(spec, float(r.beta_star))
    assert r.alignment.permutation == closed.permutation and r.alignment.method == "exact"
    assert r.alignment.unique is None and r.alignment.tied_permutations == ()
    assert r.alignment.cost == pytest.approx(closed.cost, rel=1e-12)
    j = np.arange(5)
    assert np.allclose([float(x) for x in r.overlaps], np.abs(spec.Q[list(closed.permutation), j]), rtol=1e-10)
    assert r.collapsed_units == tuple(j for j in range(5) if j not in r.active_units) == (4,)


def test_fig3_float_and_decimal_problems_differ_only_beyond_1e_16():
    rf, rd = optimal_beta(FIG3, digits=50), optimal_beta(FIG3_EXACT, digits=50)
    assert rf.beta_star != rd.beta_star
    assert abs(mpmath.mpf(rf.beta_star) - mpmath.mpf(rd.beta_star)) < 1e-16


def test_mie_minimum():
    for A in (PAPER, FIG3_EXACT):
        r = optimal_beta(A, digits=30)
        assert r.mie_optimal_beta == "1"
        assert mie_curve_mp(A, 1, dps=60) == 0 or abs(mie_curve_mp(A, 1, dps=60)) < mpmath.mpf("1e-50")
        lam_max = mpmath.mpf(r.collapse_thresholds[-1])
        assert mie_curve_mp(A, lam_max + 1, dps=60) == 0               # all units collapsed
        for b in ("0.5", "0.999", "1.001", r.beta_star):
            assert mie_curve_mp(A, b, dps=60) > 0
        assert mpmath.mpf(r.mie_at_beta_star) > 0


# ---------------------------------------------------------------- (d) a minimum at a kink
def test_minimum_at_a_collapse_threshold_is_a_kink():
    """a_2 = 0 and orthogonal columns: TIE falls (slope -1/2) to exactly 0 at beta = 1 = lambda_2, then rises.

    (With a weighted collapsing unit the left slope at a threshold is +inf, and crossings bend the other way,
    so in this model a kink minimum needs a weightless collapsing unit; random searches over 20 000 structured
    problems found no other kind.)
    """
    A = [[2, 0], [0, 0], [0, 0]]
    r = optimal_beta(A, digits=50)
    assert r.kind == "kink" and r.beta_star == "1." + "0" * 49 and r.tie_star == "0"
    thr = [k for k in r.kinks if k.local_minimum]
    assert len(thr) == 1 and thr[0].type == "threshold" and thr[0].left_derivative.startswith("-0.5")
    # the float closed form sees the same shape
    Af = np.array(A, dtype=float)
    t = [closed_form_terms(Af, b).tie for b in (0.999, 0.9999, 1.0, 1.0001, 1.001)]
    assert t[0] > t[1] > t[2] < t[3] < t[4]
    assert (t[1] - t[2]) / 1e-4 == pytest.approx(0.5, rel=1e-3)        # left slope -1/2: not stationary
    e = exact_optimal_beta(sp.Matrix(A), r.beta_star)
    assert e.kind == "kink" and e.kink_type == "threshold" and e.polynomial.as_expr() == exact_beta_mod.beta - 1


def test_kink_minimum_three_units_rotated():
    """Same mechanism with k = 3, the columns rotated by a rational orthogonal matrix on the left."""
    R = [[Fraction(3, 5), Fraction(-4, 5), 0, 0], [Fraction(4, 5), Fraction(3, 5), 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    D = [[3, 0, 0], [0, Fraction(1, 2), 0], [0, 0, 0], [0, 0, 0]]
    A = [[sum(R[i][m] * D[m][j] for m in range(4)) for j in range(3)] for i in range(4)]
    r = optimal_beta(A, digits=30)
    assert r.kind == "kink" and mpmath.mpf(r.beta_star) == 1 and r.tie_star == "0"


# ---------------------------------------------------------------- (e) bad inputs and refusals
@pytest.mark.parametrize("digits", [0, -3, 1001, 2.5, True, "50"])
def test_digits_out_of_range(digits):
    with pytest.raises(ValueError):
        optimal_beta(PAPER, digits=digits)


@pytest.mark.parametrize("A", [
    np.array([[1.0, np.nan], [0.0, 1.0]]),
    np.array([[1.0, np.inf], [0.0, 1.0]]),
    [["1", "nan"], ["0", "1"]],
    np.ones(3),                                 # 1-D
    np.ones((2, 3)),                            # k > N
    np.zeros((0, 2)),
    [[1, 2], [3]],                              # ragged
    np.zeros((3, 2)),                           # no unique minimiser
    np.array([[1 + 1j, 0], [0, 1]]),
    [["one", "0"], ["0", "1"]],
], ids=["nan", "inf", "nan-str", "1d", "wide", "empty", "ragged", "zero", "complex", "word"])
def test_bad_mixing_matrix(A):
    with pytest.raises(ValueError):
        optimal_beta(A, digits=20)


def test_exact_module_bad_inputs():
    with pytest.raises(ValueError):
        exact_optimal_beta(sp.Matrix([[sp.Float(1.5), 0], [0, 1]]), "1.2345678901")
    with pytest.raises(ValueError):
        exact_optimal_beta(fig3_matrix(), "1.36")                  # too few digits
    with pytest.raises(ValueError):
        exact_optimal_beta(fig3_matrix(), "1.2000000000000000000")  # not a stationary point
    with pytest.raises(ValueError):
        exact_optimal_beta(sp.eye(2), "1.0000000000000")            # repeated eigenvalue


def test_repeated_eigenvalue_warns():
    with pytest.warns(UserWarning, match="repeated eigenvalue"):
        r = optimal_beta(np.eye(2) * 1.5, digits=20)
    assert any("repeated" in w for w in r.warnings)


def test_refuses_when_digits_cannot_be_confirmed(monkeypatch):
    monkeypatch.setattr(certify, "WORKING_EXTRA_DIGITS", (2, 4))   # 22 and 24 working digits: at most 17 confirmable
    monkeypatch.setattr(certify, "RETRIES", 0)
    with pytest.raises(PrecisionError):
        optimal_beta(FIG3_EXACT, digits=20)


def test_input_forms_agree():
    ref = optimal_beta(FIG3_DECIMAL_STRINGS, digits=40).beta_star
    assert optimal_beta([[Fraction(273, 100), Fraction(73, 100)], [Fraction(73, 100), Fraction(273, 100)]], 40).beta_star == ref
    assert optimal_beta(FIG3_EXACT, 40).beta_star == ref
    # an mpmath matrix is read at its exact binary value: 0.73 at 53 bits, like the float problem
    m = optimal_beta(mpmath.matrix([[mpmath.mpf("2.73"), mpmath.mpf("0.73")], [mpmath.mpf("0.73"), mpmath.mpf("2.73")]]), 40)
    assert m.beta_star == optimal_beta(FIG3, 40).beta_star != ref
    assert optimal_beta(np.array(FIG3_DECIMAL_STRINGS, dtype=object), 40).beta_star == ref


def test_exact_gram_float_fast_path_equals_fraction_route():
    rng = np.random.default_rng(1)
    for A in (rng.normal(size=(40, 4)) * np.array([1e-30, 1.0, 1e20, 0.0]), np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]])):
        assert exact_algebra.float_gram(A) == exact_algebra.exact_gram(exact_algebra.exact_matrix(A))
        assert exact_algebra.float_gram(A) == exact_algebra.exact_gram(exact_algebra.exact_matrix(A.astype(object)))


# ---------------------------------------------------------------- layering and examples
def test_optimal_beta_does_not_import_sympy():
    code = "import sys, numerics.optimal_beta; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("mod", [ob, exact_algebra, tie_envelope, tie_minima, certify, exact_beta_mod])
def test_docstring_examples(mod):
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0
