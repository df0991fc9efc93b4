"""optimal-beta --certify: flint's enclosure of an algebraic root against independent routes.

Routes: hand-known roots (sqrt(2), the real root of x^3 - x - 1, the plastic number) evaluated by mpmath at twice
the digits; the paper's beta* at 1000 digits against mpmath's ``optimal_beta`` (eigen-analysis, no polynomial) and
SymPy's CRootOf.evalf (its own root isolation); an interval with no root must be refused.
"""
import time
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from derivations.exact_beta import exact_optimal_beta
from numerics.ball_beta import CertificationError, enclose_root
from numerics.model import paper_mixing
from numerics.optimal_beta import optimal_beta
from tests.cli_run import run_main, strict_json


def _check(lo: str, hi: str, true, digits: int):
    lo_f, hi_f = Fraction(lo), Fraction(hi)
    assert Fraction(mpmath.nstr(true, 2 * digits + 10, strip_zeros=False)) - Fraction(10) ** (-2 * digits) <= hi_f
    with mpmath.workdps(2 * digits + 20):
        assert mpmath.mpf(lo) <= true <= mpmath.mpf(hi)
        ulp = mpmath.mpf(10) ** (mpmath.floor(mpmath.log10(abs(true))) - digits + 1)
        assert hi_f - lo_f <= Fraction(mpmath.nstr(ulp, 5)) * Fraction(1001, 1000)
        assert len(lo.replace(".", "").replace("-", "").lstrip("0")) == digits


@pytest.mark.parametrize("digits", [1, 17, 200])
def test_sqrt2(digits):
    lo, hi = enclose_root([1, 0, -2], (Fraction(1), Fraction(2)), digits)
    with mpmath.workdps(2 * digits + 20):
        _check(lo, hi, mpmath.sqrt(2), digits)


@pytest.mark.parametrize("digits", [5, 300])
def test_plastic_number_cubic(digits):
    # x^3 - x - 1 has one real root, (cbrt((9 + sqrt 69)/18) + cbrt((9 - sqrt 69)/18)) by Cardano
    lo, hi = enclose_root([1, 0, -1, -1], (Fraction(1), Fraction(3, 2)), digits)
    with mpmath.workdps(2 * digits + 20):
        s = mpmath.sqrt(69)
        true = mpmath.cbrt((9 + s) / 18) + mpmath.cbrt((9 - s) / 18)
        _check(lo, hi, true, digits)


def test_negative_root_and_exact_rational():
    lo, hi = enclose_root([1, 0, -2], (Fraction(-2), Fraction(-1)), 10)
    assert (lo, hi) == ("-1.414213563", "-1.414213562")       # sqrt(2) = 1.41421356237...
    assert enclose_root([4, -1], (Fraction(0), Fraction(1)), 3) == ("0.250", "0.250")
    assert enclose_root([3, -1], (Fraction(0), Fraction(1)), 4) == ("0.3333", "0.3334")


@pytest.mark.parametrize("interval", [(Fraction(2), Fraction(3)), (Fraction(-2), Fraction(2))])
def test_interval_without_exactly_one_root_is_refused(interval):
    with pytest.raises(CertificationError, match="not exactly one"):
        enclose_root([1, 0, -2], interval, 10)


def test_paper_beta_star_1000_digits():
    t0 = time.perf_counter()
    mp = optimal_beta(paper_mixing(exact=True), digits=1000)
    t1 = time.perf_counter()
    res = exact_optimal_beta(sp.Matrix(paper_mixing(exact=True)), mp.beta_star)
    t2 = time.perf_counter()
    coefficients = [int(c) for c in res.polynomial.all_coeffs()]
    lo, hi = enclose_root(coefficients, tuple(Fraction(int(x.p), int(x.q)) for x in res.interval), 1000)
    t3 = time.perf_counter()
    print(f"\npaper beta*, 1000 digits: mpmath {t1 - t0:.2f} s, SymPy exact {t2 - t1:.2f} s, flint enclosure {t3 - t2:.3f} s")
    lo_f, hi_f = Fraction(lo), Fraction(hi)
    assert hi_f - lo_f == Fraction(1, 10 ** 999)
    assert lo_f <= Fraction(mp.beta_star) <= hi_f             # rounded to nearest at 1000 digits: lo or hi
    assert mp.beta_star in (lo, hi)
    crootof = Fraction(str(res.root.evalf(1010)))
    assert lo_f <= crootof <= hi_f
    assert lo.startswith("1.13690437104602023045486688171")   # README's digits


def test_cli_certify_json_shape():
    status, out, err = run_main(["optimal-beta", "--certify", "--digits", "40", "--json"])
    assert status == 0, err
    doc = strict_json(out)
    doc = doc.get("result", doc)
    assert set(doc["enclosure"]) == {"lo", "hi"} and set(doc["algebraic"]) == {"polynomial", "interval"}
    assert all(isinstance(c, int) for c in doc["algebraic"]["polynomial"])
    assert doc["algebraic"]["polynomial"][0] > 0 and len(doc["algebraic"]["polynomial"]) == 7     # degree 6
    lo, hi = (Fraction(doc["enclosure"][k]) for k in ("lo", "hi"))
    assert 0 < hi - lo <= Fraction(1, 10 ** 39)
    assert lo <= Fraction(doc["beta_star"]) <= hi
    a, b = (Fraction(x) for x in doc["algebraic"]["interval"])
    assert a <= lo and hi <= b or a <= Fraction(doc["beta_star"]) <= b


@pytest.mark.parametrize("shape, seed", [("5x2", 0), ("3x2", 1), ("20x2", 0)])
def test_cli_certify_float_matrix_at_its_binary_values(shape, seed):
    # 3x2 seed 1 and 20x2 seed 0 took minutes when SymPy's real_roots factored the 1000-bit coefficients
    status, out, err = run_main(["optimal-beta", "--certify", "--random", shape, "--seed", str(seed), "--digits", "30",
                                 "--json"])
    assert status == 0, err
    doc = strict_json(out)
    doc = doc.get("result", doc)
    lo, hi = (Fraction(doc["enclosure"][k]) for k in ("lo", "hi"))
    # independent route: mpmath's eigen-analysis of the float matrix at 60 digits, no polynomial
    from numerics.problems import random_problem
    N, k = map(int, shape.split("x"))
    mp60 = Fraction(optimal_beta(random_problem(N, k, seed).A, digits=60).beta_star)
    assert lo <= mp60 <= hi and 0 < hi - lo <= Fraction(1, 10 ** 29)
    # the enclosed number is a root of the integer polynomial: its sign changes across the enclosure
    coefficients = doc["algebraic"]["polynomial"]
    value = [sum(c * x ** i for i, c in enumerate(reversed(coefficients))) for x in (lo, hi)]
    assert value[0] * value[1] <= 0


def test_cli_certify_refuses_what_the_elimination_cannot_do():
    status, out, err = run_main(["optimal-beta", "--certify", "--random", "6x3", "--seed", "0", "--digits", "20"])
    assert status == 1
    assert "cannot certify" in err and "elimination too large" in err


@pytest.mark.parametrize("argv", [["--decoder-variance", "2"], ["--noise-variance", "0.5"], ["--no-exact"]])
def test_cli_certify_refused_in_one_line(argv):
    status, out, err = run_main(["optimal-beta", "--certify", *argv])
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--certify" in err


@pytest.mark.parametrize("guard", [-8, -6])
def test_bisection_on_the_decimal_grid_when_the_ball_spans_several_ulps(monkeypatch, guard):
    # with too few guard bits flint's ball spans ~12 units in the last place; allowed to bisect that far, the enclosure
    # is settled on the decimal grid by exact signs (with the default 64 guard bits the ball is far inside one ulp and
    # the bisection is not needed)
    import numerics.ball_beta as B
    monkeypatch.setattr(B, "GUARD_BITS", guard)
    monkeypatch.setattr(B, "MAX_GRID_STEPS", 64)
    digits = 40
    lo, hi = enclose_root([1, 0, -2], (Fraction(1), Fraction(2)), digits)
    with mpmath.workdps(2 * digits + 20):
        _check(lo, hi, mpmath.sqrt(2), digits)
