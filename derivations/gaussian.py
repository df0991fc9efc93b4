"""Gaussian-expectation engine (Appendix B, eqs. 34-37), derived from the moment-generating function.

Everything the tractable model needs is an expectation under a Gaussian of

* a quadratic form ``(P x + p)^T M (Q x + q)``, and
* the exponential of a linear form ``exp(a^T x + c)``.

Both follow from the moment-generating function ``E[exp(t^T x)] = exp(t^T m + t^T S t / 2)``
of ``x ~ N(m, S)``, which is itself checked by brute-force integration (symbolic in one
dimension here; numerical quadrature in two dimensions in the tests).

>>> import sympy as sp
>>> from derivations.symbols import N
>>> P = sp.MatrixSymbol('P', N, N); S = sp.MatrixSymbol('S', N, N)
>>> expect_quadratic(P, None, sp.Identity(N), P, None, S)
Trace(P.T*P*S)
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .steps import Section, concrete_method, prove


def gaussian_density(y: sp.Matrix, mean: sp.Matrix, cov: sp.Matrix):
    """N(y; mean, cov) for explicit matrices."""
    n = y.shape[0]
    r = y - mean
    return (2 * sp.pi) ** sp.Rational(-n, 2) / sp.sqrt(cov.det()) * sp.exp(-(r.T * cov.inv() * r)[0, 0] / 2)


class LogDensity:
    """log N(y; mean, cov) = -(n/2) log 2pi - (1/2) log det cov - (1/2) r^T cov^-1 r, kept in parts.

    Identities between sums of Gaussian log-densities are then checked part by part, exactly:
    the 2pi powers, the product of determinants (a rational function) and the quadratic forms.
    """

    def __init__(self, n, det, quad, sign=1):
        self.n, self.det, self.quad, self.sign = n, det, quad, sign

    def __neg__(self):
        return LogDensity(self.n, self.det, self.quad, -self.sign)

    def expr(self):
        return self.sign * (-sp.Rational(self.n, 2) * sp.log(2 * sp.pi) - sp.log(self.det) / 2 - self.quad / 2)


def gaussian_log_density(y: sp.Matrix, mean: sp.Matrix, cov: sp.Matrix = None, *,
                         precision: sp.Matrix = None) -> LogDensity:
    """log N(y; mean, cov) for explicit matrices, in parts (see :class:`LogDensity`).

    Give ``precision`` (cov^-1) instead of ``cov`` when it is the simpler of the two.
    """
    from .steps import inv
    r = y - mean
    if precision is not None:
        return LogDensity(y.shape[0], 1 / sp.expand(precision.det()), (r.T * precision * r)[0, 0])
    return LogDensity(y.shape[0], sp.expand(cov.det()), (r.T * inv(cov) * r)[0, 0])


def log_density_residual(lhs: list[LogDensity], rhs: list[LogDensity]):
    """Residual of sum(lhs) - sum(rhs): (2pi exponent, det ratio - 1 numerator, quadratic numerator)."""
    from .steps import rational_simplify
    terms = list(lhs) + [-t for t in rhs]
    twopi = sum(t.sign * t.n for t in terms)
    num = sp.Integer(1)
    den = sp.Integer(1)
    for t in terms:
        if t.sign > 0:
            num *= t.det
        else:
            den *= t.det
    quad = sum(t.sign * t.quad for t in terms)
    return sp.Matrix([twopi, rational_simplify(num - den), rational_simplify(quad)])


def mgf(t: sp.Matrix, m: sp.Matrix, S: sp.Matrix):
    """E[exp(t^T x)] for x ~ N(m, S)."""
    return sp.exp((t.T * m)[0, 0] + (t.T * S * t)[0, 0] / 2)


def expect_quadratic(P, p, M, Q, q, Sigma):
    """E[(P x + p)^T M (Q x + q)] for x ~ N(0, Sigma), as a scalar (general dimension).

    ``p`` or ``q`` may be None (zero). The result is Tr(P^T M Q Sigma) + p^T M q,
    the rule proved at concrete dimension in :func:`engine_section`.
    """
    out = sp.Trace(P.T * M * Q * Sigma)
    if p is not None and q is not None:
        out = out + sp.Trace(p.T * M * q)
    return out


def expect_exp_linear(a, c, Sigma):
    """E[exp(a^T x + c)] for x ~ N(0, Sigma), a an (n x 1) MatrixExpr: exp(c + a^T Sigma a / 2)."""
    return sp.exp(c + sp.Trace(a.T * Sigma * a) / 2)


def _explicit(name, rows, cols=1):
    if cols == 1:
        return sp.Matrix(rows, 1, lambda i, j: sp.Symbol(f"{name}_{i + 1}", real=True))
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def _explicit_symmetric(name, n):
    return sp.Matrix(n, n, lambda i, j: sp.Symbol(f"{name}_{min(i, j) + 1}{max(i, j) + 1}", real=True))


def expect_polynomial(poly, xs, m, S):
    """E[poly(x)] for a polynomial of degree <= 2 in the explicit components ``xs`` of x ~ N(m, S).

    Uses the moments E[x_i] = m_i and E[x_i x_j] = S_ij + m_i m_j derived from the MGF.
    """
    poly = sp.Poly(sp.expand(poly), *xs)
    if poly.total_degree() > 2:
        raise ValueError("expect_polynomial handles degree <= 2")
    out = 0
    for monom, coeff in poly.terms():
        idx = [i for i, p in enumerate(monom) for _ in range(p)]
        if not idx:
            out += coeff
        elif len(idx) == 1:
            out += coeff * m[idx[0]]
        else:
            i, j = idx
            out += coeff * (S[i, j] + m[i] * m[j])
    return out


@lru_cache(maxsize=None)
def engine_section(n: int = 3) -> Section:
    """Derive and check the engine: MGF by integration, moments, quadratic and exponential rules."""
    sec = Section("gaussian", "Gaussian-expectation engine (Appendix B, eqs. 34-37)",
                  "Every data average in the paper is an expectation under a Gaussian of a "
                  "quadratic form or of an exponential of a linear form. Both are derived here "
                  "from the moment-generating function, which is itself obtained by integration.")
    # 1. MGF by symbolic integration in one dimension.
    xv, t, m = sp.symbols("x t m", real=True)
    s = sp.Symbol("s", positive=True)
    density = sp.exp(-(xv - m) ** 2 / (2 * s ** 2)) / sp.sqrt(2 * sp.pi * s ** 2)
    integral = sp.integrate(sp.exp(t * xv) * density, (xv, -sp.oo, sp.oo), conds="none")
    sec.add(prove("gaussian.mgf1d", "MGF of N(m, s^2) by direct integration",
                  integral, sp.exp(t * m + t ** 2 * s ** 2 / 2), "symbolic integration, n=1",
                  simplifier=lambda e: sp.simplify(sp.powsimp(sp.expand(e), combine="exp"))))
    # 2. Moments from the n-dimensional MGF, by differentiation at t = 0.
    tt = _explicit("t", n)
    mm = _explicit("m", n)
    S = _explicit_symmetric("S", n)
    M = mgf(tt, mm, S)
    at0 = {ti: 0 for ti in tt}
    first = sp.Matrix(n, 1, lambda i, j: sp.diff(M, tt[i]).subs(at0))
    second = sp.Matrix(n, n, lambda i, j: sp.diff(M, tt[i], tt[j]).subs(at0))
    sec.add(prove("gaussian.mean", "E[x] = dM/dt at t=0", first, mm, concrete_method(n, n)))
    sec.add(prove("gaussian.second_moment", "E[x x^T] = d^2M/dt dt^T at t=0 = S + m m^T",
                  second, S + mm * mm.T, concrete_method(n, n)))
    # 3. Quadratic-form rule, from the moments (concrete n x n, all entries symbolic).
    xs = _explicit("x", n)
    P, Q, Mq = _explicit("P", 2, n), _explicit("Q", 2, n), _explicit("M", 2, 2)
    p, q = _explicit("p", 2), _explicit("q", 2)
    form = ((P * xs + p).T * Mq * (Q * xs + q))[0, 0]
    lhs = expect_polynomial(form, list(xs), mm, S)
    rhs = (P.T * Mq * Q * S).trace() + ((P * mm + p).T * Mq * (Q * mm + q))[0, 0]
    sec.add(prove("gaussian.quadratic", "E[(Px+p)^T M (Qx+q)] = Tr(P^T M Q S) + (Pm+p)^T M (Qm+q)",
                  lhs, rhs, concrete_method(n, 2),
                  note="By linearity the rule holds at every dimension; it is used below with m = 0."))
    # 4. Exponential of a linear form: the MGF evaluated at t = a.
    a = _explicit("a", n)
    c = sp.Symbol("c", real=True)
    sec.add(prove("gaussian.exp_linear", "E[exp(a^T x + c)] = exp(c + a^T m + a^T S a / 2)",
                  sp.exp(c) * mgf(a, mm, S), sp.exp(c + (a.T * mm)[0, 0] + (a.T * S * a)[0, 0] / 2),
                  concrete_method(n, n)))
    # 5. The paper's generating functional, eqs. (34)-(37), with z ~ N(0, Sigma_z) and a 2 x n matrix A.
    Az = _explicit("A", 2, n)
    J = _explicit("J", 2)
    Sz = _explicit_symmetric("Sz", n)
    Z = mgf(Az.T * J, sp.zeros(n, 1), Sz)
    sec.add(prove("gaussian.eq36", "Z[J] = E[exp(J^T A z)] = exp(J^T A Sigma_z A^T J / 2)",
                  Z, sp.exp((J.T * Az * Sz * Az.T * J)[0, 0] / 2), concrete_method(n, 2), equation="36"))
    lap = sum(sp.diff(Z, J[i], 2) for i in range(2)).subs({ji: 0 for ji in J})
    zs = _explicit("z", n)
    quad = expect_polynomial((zs.T * Az.T * Az * zs)[0, 0], list(zs), sp.zeros(n, 1), Sz)
    sec.add(prove("gaussian.eq35", "(d/dJ)^T (d/dJ) Z[J] at J=0 = E[z^T A^T A z]", lap, quad,
                  concrete_method(n, 2), equation="35"))
    sec.add(prove("gaussian.eq37", "E[z^T A^T A z] = Tr(A Sigma_z A^T)", quad, (Az * Sz * Az.T).trace(),
                  concrete_method(n, 2), equation="37"))
    # 6. Completing the square (used for the evidence, eqs. 55-57).
    Pm = _explicit_symmetric("Pm", 2)
    h, zz = _explicit("h", 2), _explicit("z", 2)
    centre = Pm.inv() * h
    lhs = -(zz.T * Pm * zz)[0, 0] / 2 + (h.T * zz)[0, 0]
    rhs = -((zz - centre).T * Pm * (zz - centre))[0, 0] / 2 + (h.T * Pm.inv() * h)[0, 0] / 2
    sec.add(prove("gaussian.complete_square",
                  "-z^T P z / 2 + h^T z = -(z - P^-1 h)^T P (z - P^-1 h)/2 + h^T P^-1 h / 2",
                  lhs, rhs, concrete_method(2, 2),
                  note="Hence int exp(-z^T P z/2 + h^T z) dz = (2 pi)^(k/2) det(P)^(-1/2) exp(h^T P^-1 h / 2)."))
    return sec
