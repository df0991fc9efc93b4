"""Propositions 1-4 and Section IV.A as executable properties, stated in the paper's words.

Each property takes one problem instance and returns a :class:`PropertyResult` (``holds`` and the
numbers that show it). The quantities at the optimum come from a *model* object, the closed form
(:data:`CLOSED_FORM`) or the general stationarity solver (:data:`SOLVER`); tests substitute a
deliberately broken model to show that the properties can fail. Derivatives in beta are taken in
high precision (``mpmath.diff`` on the generated mpmath closed forms), one-sided on each side, so a
collapse threshold (where KL* has a kink) is checked on both of its sides.

>>> import numpy as np
>>> A = 0.5 * (np.ones((6, 2)) + np.eye(6, 2))
>>> prop1_nonincreasing(A, 0.5, 2.0).holds, prop1_identity(A, 2.0).holds, prop3_elbo_max_at_one(A, 3.0).holds
(True, True, True)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import numpy as np

from numerics import generated as gen
from numerics.highprec import spectrum_mp, terms_mp
from numerics.optimum import closed_form_terms

from .ledger import note

REL_TOL = 1e-9          # float comparisons between optima (closed form: ~1e-15; solver: ~1e-12)
DPS = 50                # working digits of the high-precision derivatives
HP_TOL = mpmath.mpf(10) ** -35


@dataclass(frozen=True)
class PropertyResult:
    holds: bool
    detail: dict = field(default_factory=dict)


def _le(x, y, scale) -> bool:
    return x <= y + REL_TOL * max(1.0, abs(scale))


# ------------------------------------------------------------------------------ the optimum
class ClosedForm:
    """Quantities at the global optimum from the closed form (k x k eigen-data)."""

    name = "closed-form optimum"

    def at(self, A, beta):
        note("precision", "closed_form", "float64 (numpy)")
        return closed_form_terms(A, beta)

    def mp(self, A, dps: int = DPS):
        note("precision", "closed_form_high_precision", f"mpmath, {dps} digits")
        spec = spectrum_mp(A, dps)
        return (lambda beta: terms_mp(spec, beta)), spec.lam


@dataclass(frozen=True)
class SolverTerms:
    reconstruction: float
    kl: float
    elbo: float
    objective: float


class Solver:
    """Quantities at the best stationary point the general solver finds (eq. 23 in full, random starts)."""

    name = "general stationarity solver"

    def __init__(self, starts: int = 8, seed: int = 0):
        self.starts, self.seed = starts, seed

    def at(self, A, beta):
        from numerics.stationary import solve_stationary
        note("seeds", "stationarity_solver_starts", self.seed)
        note("precision", "stationarity_solver", "float64 (scipy.optimize, Newton polish)")
        r = solve_stationary(A, beta, starts=self.starts, seed=self.seed)
        p = r.points[0].parameters.arrays()
        S = A @ A.T + np.eye(A.shape[0])
        recon, kl = float(gen.reconstruction(*p, S)), float(gen.kl(*p, S))
        return SolverTerms(reconstruction=recon, kl=kl, elbo=recon - kl, objective=recon - beta * kl)


CLOSED_FORM = ClosedForm()
SOLVER = Solver()


def one_sided_derivatives(f, beta, dps=DPS):
    """(left, right) derivatives of f at beta, mpmath.diff at dps digits."""
    note("precision", "one_sided_derivatives", f"mpmath.diff, {dps} digits")
    with mpmath.workdps(dps):
        b = mpmath.mpf(beta)
        return mpmath.diff(f, b, direction=-1), mpmath.diff(f, b, direction=1)


def significant(x, n=20) -> str:
    """``x`` to ``n`` significant digits (mpmath.nstr), for evidence text."""
    return mpmath.nstr(x, n)


# ------------------------------------------------------------------------------ Proposition 1
def prop1_nonincreasing(A, beta1, beta2, model=CLOSED_FORM) -> PropertyResult:
    """Proposition 1: "The optimal value of the beta-VAE objective, L*(beta), is non-increasing with increasing beta"."""
    L1, L2 = model.at(A, beta1).objective, model.at(A, beta2).objective
    return PropertyResult(_le(L2, L1, L1), {"beta1": beta1, "beta2": beta2, "L*(beta1)": L1, "L*(beta2)": L2})


def prop1_identity(A, beta, model=CLOSED_FORM, constant_slope=0) -> PropertyResult:
    """Eq. (10): dL*/dbeta = -D_KL(q*(z|x) || p(z)), both one-sided derivatives, at 50 digits.

    ``constant_slope`` adds d(c)/dbeta of an additive constant c(beta) dropped from the objective
    (eq. 21 as printed drops one with slope -k/2 relative to the full objective)."""
    with mpmath.workdps(DPS):
        f, _ = model.mp(A)
        left, right = one_sided_derivatives(lambda b: f(b).objective - constant_slope * b, beta)
        kl = f(beta).kl
        ok = abs(left + kl) <= HP_TOL * max(1, abs(kl)) and abs(right + kl) <= HP_TOL * max(1, abs(kl))
        return PropertyResult(bool(ok), {"beta": beta, "dL*/dbeta (left)": significant(left), "dL*/dbeta (right)": significant(right),
                                         "-KL*": significant(-kl)})


# ------------------------------------------------------------------------------ Proposition 2
def prop2_kl_nonincreasing(A, beta1, beta2, model=CLOSED_FORM) -> PropertyResult:
    """Eq. (12): "The KL divergence between the inference model and the prior is non-increasing with increasing beta"."""
    K1, K2 = model.at(A, beta1).kl, model.at(A, beta2).kl
    return PropertyResult(_le(K2, K1, K1), {"beta1": beta1, "beta2": beta2, "KL*(beta1)": K1, "KL*(beta2)": K2})


def prop2_reconstruction_nonincreasing(A, beta1, beta2, model=CLOSED_FORM) -> PropertyResult:
    """Eq. (13): the reconstruction objective at the optimum is non-increasing in beta."""
    R1, R2 = model.at(A, beta1).reconstruction, model.at(A, beta2).reconstruction
    return PropertyResult(_le(R2, R1, R1), {"beta1": beta1, "beta2": beta2, "recon*(beta1)": R1, "recon*(beta2)": R2})


def prop2_derivatives(A, beta, model=CLOSED_FORM) -> PropertyResult:
    """Eqs. (12)-(13) as derivatives: dKL*/dbeta <= 0 and d recon*/dbeta <= 0 on both sides, at 50 digits."""
    with mpmath.workdps(DPS):
        f, _ = model.mp(A)
        dk = one_sided_derivatives(lambda b: f(b).kl, beta)
        dr = one_sided_derivatives(lambda b: f(b).reconstruction, beta)
        ok = all(d <= HP_TOL for d in dk + dr)
        return PropertyResult(bool(ok), {"beta": beta, "dKL*/dbeta (left, right)": [significant(d) for d in dk],
                                         "d recon*/dbeta (left, right)": [significant(d) for d in dr]})


# ------------------------------------------------------------------------------ Proposition 3
def prop3_elbo_max_at_one(A, beta, model=CLOSED_FORM) -> PropertyResult:
    """Proposition 3: "ELBO* is maximized at beta = 1"."""
    E1, Eb = model.at(A, 1.0).elbo, model.at(A, beta).elbo
    return PropertyResult(_le(Eb, E1, E1), {"beta": beta, "ELBO*(1)": E1, "ELBO*(beta)": Eb})


def prop3_identity(A, beta, model=CLOSED_FORM) -> PropertyResult:
    """Eq. (15): dELBO*/dbeta = (beta - 1) dKL*/dbeta, on each side, at 50 digits."""
    with mpmath.workdps(DPS):
        f, _ = model.mp(A)
        de = one_sided_derivatives(lambda b: f(b).elbo, beta)
        dk = one_sided_derivatives(lambda b: f(b).kl, beta)
        res = [abs(e - (mpmath.mpf(beta) - 1) * k) for e, k in zip(de, dk)]
        ok = all(r <= HP_TOL * max(1, abs(e)) for r, e in zip(res, de))
        return PropertyResult(bool(ok), {"beta": beta, "dELBO*/dbeta (left, right)": [significant(d) for d in de],
                                         "(beta-1) dKL*/dbeta (left, right)": [significant((mpmath.mpf(beta) - 1) * d) for d in dk]})


# ------------------------------------------------------------------------------ Proposition 4
def _argmax_finite(pairs, beta, sign):
    values = [a + sign * beta * b for a, b in pairs]
    top = max(values)
    return [i for i, v in enumerate(values) if v == top]


def prop4_finite(pairs, beta1, beta2, sign: int = -1) -> PropertyResult:
    """Proposition 4 on a finite parameter set, exactly (Fractions): for every maximiser kappa1 at beta1 and
    kappa2 at beta2 > beta1, B(kappa2) <= B(kappa1). ``sign=+1`` is the broken objective A + beta B."""
    M1, M2 = _argmax_finite(pairs, beta1, sign), _argmax_finite(pairs, beta2, sign)
    B1, B2 = [pairs[i][1] for i in M1], [pairs[i][1] for i in M2]
    return PropertyResult(max(B2) <= min(B1), {"beta1": str(beta1), "beta2": str(beta2),
                                               "argmax at beta1": M1, "argmax at beta2": M2,
                                               "B at beta1": [str(b) for b in B1], "B at beta2": [str(b) for b in B2]})


def _real_roots(a_coeffs, b_coeffs, beta, sign, dps):
    """Real roots of O'(kappa), isolated exactly by SymPy (O has rational coefficients), then evaluated to dps
    digits. Exact isolation, because mpmath.polyroots fails to converge on a repeated root (hypothesis found
    O' = -(kappa + 2)(2 kappa + 1)^2)."""
    import sympy as sp
    kappa = sp.Symbol("kappa")
    b = sp.Rational(beta.numerator, beta.denominator) if isinstance(beta, Fraction) else sp.Rational(beta)
    objective = sp.Poly([sp.Rational(x) + sign * b * sp.Rational(y) for x, y in zip(a_coeffs, b_coeffs)], kappa)
    return [mpmath.mpf(str(sp.N(r, dps + 5))) for r in sorted(set(objective.diff(kappa).real_roots()))]


def _family_maximisers(a_coeffs, b_coeffs, beta, sign, dps=40):
    """Global maximisers of A(kappa) + sign beta B(kappa) over the reals (polynomials, highest degree first)."""
    note("precision", "family_maximisers", f"critical points isolated exactly (SymPy real_roots), evaluated to {dps} digits")
    with mpmath.workdps(dps):
        b = mpmath.mpf(beta.numerator) / beta.denominator if isinstance(beta, Fraction) else mpmath.mpf(beta)
        o = [mpmath.mpf(x) + sign * b * y for x, y in zip(a_coeffs, b_coeffs)]
        while o and o[0] == 0:
            o = o[1:]
        deg = len(o) - 1
        if deg < 1 or o[0] > 0 or deg % 2:
            raise ValueError("objective is not bounded above")
        do = [c * (deg - i) for i, c in enumerate(o[:-1])]
        while do and do[0] == 0:
            do = do[1:]
        crit = [mpmath.mpf(0)] if len(do) <= 1 else _real_roots(a_coeffs, b_coeffs, beta, sign, dps)
        vals = [mpmath.polyval(o, c) for c in crit]
        top = max(vals)
        tol = mpmath.mpf(10) ** (-dps // 2) * max(1, abs(top))
        return [c for c, v in zip(crit, vals) if v >= top - tol]


def prop4_family(family, beta1, beta2, sign: int = -1) -> PropertyResult:
    """Proposition 4 on a smooth one-parameter family (global maximisers from the roots of O'(kappa), ties kept)."""
    a_c, b_c = family
    K1 = _family_maximisers(a_c, b_c, beta1, sign)
    K2 = _family_maximisers(a_c, b_c, beta2, sign)
    with mpmath.workdps(40):
        B1 = [mpmath.polyval([mpmath.mpf(c) for c in b_c], k) for k in K1]
        B2 = [mpmath.polyval([mpmath.mpf(c) for c in b_c], k) for k in K2]
        ok = max(B2) <= min(B1) + mpmath.mpf(10) ** -15 * max(1, abs(min(B1)))
    return PropertyResult(bool(ok), {"A(kappa) coefficients": a_c, "B(kappa) coefficients": b_c,
                                     "beta1": str(beta1), "beta2": str(beta2),
                                     "kappa*(beta1)": [significant(k, 12) for k in K1], "kappa*(beta2)": [significant(k, 12) for k in K2],
                                     "B at beta1": [significant(b, 12) for b in B1], "B at beta2": [significant(b, 12) for b in B2]})


# ------------------------------------------------------------------------------ Section IV.A
@dataclass(frozen=True)
class FixedDecoderOptimum:
    """The encoder that maximises the beta-VAE objective for a fixed decoder D (b_D = 0), and its MIE."""

    beta: float
    elbo: float
    mie: float                  # eq. (25) with E, F of eq. (26)
    mie_by_identity: float      # E log p_theta(x) - ELBO (eq. 16): a second route
    log_likelihood: float
    encoder: tuple


def fixed_decoder_optimum(A, D, beta) -> FixedDecoderOptimum:
    """Encoder optimum for a fixed decoder, from the stationarity conditions (eqs. 42, 43, 46, 47 with D fixed):
    W_mu = (D^T D + beta I)^-1 D^T, b_mu = 0, W_sigma = 0, e^{b_sigma} = beta / ([D^T D]_ii + beta)."""
    N, k = D.shape
    S = A @ A.T + np.eye(N)
    G = D.T @ D
    W_mu = np.linalg.solve(G + beta * np.eye(k), D.T)
    b_mu, W_sigma = np.zeros((k, 1)), np.zeros((k, N))
    b_sigma = np.log(beta / (np.diag(G) + beta))[:, None]
    b_D = np.zeros((N, 1))
    p = (W_mu, b_mu, W_sigma, b_sigma, D, b_D)
    elbo = float(gen.reconstruction(*p, S) - gen.kl(*p, S))
    E_inv = G + np.eye(k)
    mie = float(gen.inference_error(W_mu, b_mu, W_sigma, b_sigma, S, E_inv, np.linalg.solve(E_inv, D.T)))
    # E_x log N(x; 0, D D^T + I) with k x k work: det lemma and Woodbury
    _, logdet = np.linalg.slogdet(E_inv)
    tr = np.trace(S) - np.trace(np.linalg.solve(E_inv, D.T @ S @ D))
    loglik = float(-0.5 * (N * np.log(2 * np.pi) + logdet + tr))
    return FixedDecoderOptimum(beta=float(beta), elbo=elbo, mie=mie, mie_by_identity=loglik - elbo,
                               log_likelihood=loglik, encoder=p[:4])


def sec4a_mie_smallest_at_one(A, D, beta) -> PropertyResult:
    """Section IV.A: with the decoder fixed, "MIE is minimum at beta = 1"."""
    one, other = fixed_decoder_optimum(A, D, 1.0), fixed_decoder_optimum(A, D, beta)
    return PropertyResult(_le(one.mie, other.mie, other.mie),
                          {"beta": beta, "MIE(1)": one.mie, "MIE(beta)": other.mie,
                           "ELBO*(1)": one.elbo, "ELBO*(beta)": other.elbo})
