"""The optimum of the general model (decoder variance sigma_d2, prior variance sigma_p2) in closed form.

By the scaling identities of :mod:`derivations.general_model` the optimum is the unit model's at
beta' = beta sigma_d2, read in the gauge z / sigma_p. Per unit (eigenvalue lambda of Sigma_x, U the
top-k eigenvectors): d'^2 = max(lambda - beta', 0), D = U diag(d' / sigma_p),
W_mu = sigma_p diag(d' / (d'^2 + beta')) U^T, encoder variance sigma_p2 beta' / (d'^2 + beta'),
b_mu = b_D = 0, W_sigma = 0. The sections check that the gradient of the general objective vanishes
there, every term in closed form (the N - k tail eigenvalues enter through their sum only), TIE for
noise sigma_eta2, three results from the literature and the limits beta -> 0+.

>>> general_mode_d2(5, 2, 2, 4)      # max(5 - 2*2, 0) / 4
1/4
>>> general_mode_kl(3, 1, 3)         # beta' = 3 = lambda: the unit has just collapsed
0
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .closed_form import tie_at_relabelling, tie_closed_form, tie_structured
from .explicit import explicit
from .general_model import (expected_loglik, general_kl_expr, general_objective_expr, general_objective_section,
                            general_reconstruction_expr, rescaled_beta, scaling_section)
from .inference_error import E_inv, F, inference_error_form
from .steps import Section, concrete_method, prove, rational_simplify, record
from .symbols import Sigma_x, W_mu, W_sigma, b_mu, b_sigma, beta, concrete, sigma_d2, sigma_eta2, sigma_p2

lam = sp.Symbol("lambda", positive=True)


# ------------------------------------------------------------------ per-unit closed forms
def general_mode_d2(lam_=lam, beta_=beta, sigma_d2_=sigma_d2, sigma_p2_=sigma_p2):
    """Squared decoder gain of one unit: max(lambda - beta sigma_d2, 0) / sigma_p2."""
    return sp.Max(sp.sympify(lam_) - rescaled_beta(beta_, sigma_d2_), 0) / sigma_p2_


def general_mode_encoder(lam_=lam, beta_=beta, sigma_d2_=sigma_d2, sigma_p2_=sigma_p2):
    """(encoder gain, encoder variance) of one unit: sigma_p d' / (d'^2 + beta'), sigma_p2 beta' / (d'^2 + beta')."""
    bp = rescaled_beta(beta_, sigma_d2_)
    dp2 = sp.Max(sp.sympify(lam_) - bp, 0)
    return sp.sqrt(sigma_p2_) * sp.sqrt(dp2) / (dp2 + bp), sigma_p2_ * bp / (dp2 + bp)


def general_mode_reconstruction(lam_=lam, beta_=beta, sigma_d2_=sigma_d2):
    """Unit term of -2 sigma_d2 (reconstruction + (N/2) log 2 pi sigma_d2): min(beta', lambda)."""
    return sp.Min(rescaled_beta(beta_, sigma_d2_), lam_)


def general_mode_kl(lam_=lam, beta_=beta, sigma_d2_=sigma_d2):
    """Unit KL: (1/2) log max(lambda / beta', 1) (independent of sigma_p2)."""
    return sp.log(sp.Max(sp.sympify(lam_) / rescaled_beta(beta_, sigma_d2_), 1)) / 2


def general_mode_loglik(lam_=lam, beta_=beta, sigma_d2_=sigma_d2):
    """Unit term of -2 (log-likelihood + (N/2) log 2 pi): log(d'^2 + sigma_d2) + lambda / (d'^2 + sigma_d2)."""
    g = sp.Max(sp.sympify(lam_) - rescaled_beta(beta_, sigma_d2_), 0) + sigma_d2_
    return sp.log(g) + sp.sympify(lam_) / g


def general_closed_form_totals(N_, eigs_top, tail_sum, beta_=beta, sigma_d2_=sigma_d2):
    """Every term at the optimum, every constant kept; ``tail_sum``: the sum of the N - k other eigenvalues."""
    N_, tail = sp.sympify(N_), sp.sympify(tail_sum)
    n_tail = N_ - len(eigs_top)
    recon = (-N_ * sp.log(2 * sp.pi * sigma_d2_) / 2
             - (sum(general_mode_reconstruction(l_, beta_, sigma_d2_) for l_ in eigs_top) + tail) / (2 * sigma_d2_))
    kl = sum(general_mode_kl(l_, beta_, sigma_d2_) for l_ in eigs_top)
    loglik = (-N_ * sp.log(2 * sp.pi) / 2 - sum(general_mode_loglik(l_, beta_, sigma_d2_) for l_ in eigs_top) / 2
              - (n_tail * sp.log(sigma_d2_) + tail / sigma_d2_) / 2)
    return {"reconstruction": recon, "kl": kl, "elbo": recon - kl, "objective": recon - beta_ * kl,
            "log_likelihood": loglik, "mie": loglik - (recon - kl)}


def general_tie_closed_form(a_list, Q, perm, signs, beta_=beta, sigma_d2_=sigma_d2, sigma_eta2_=sigma_eta2):
    """TIE at the optimum against the posterior of x = A s + eta, eta ~ N(0, sigma_eta2 I), in the gauge z / sigma_p:
    sum a/sigma_eta2 - (1/2) sum log(1 + a/sigma_eta2) + KL - (1/sigma_eta2) sum_j signs_j sqrt(a_j (lambda_j - beta')^+) Q[perm_j, j],
    lambda = a + sigma_eta2 (a: eigenvalues of A^T A, Q their eigenvectors)."""
    bp = rescaled_beta(beta_, sigma_d2_)
    out = sum(a_ / sigma_eta2_ for a_ in a_list) - sum(sp.log(1 + a_ / sigma_eta2_) for a_ in a_list) / 2
    out += sum(general_mode_kl(a_ + sigma_eta2_, beta_, sigma_d2_) for a_ in a_list)
    out -= sum(signs[j] * sp.sqrt(a_list[j] * sp.Max(a_list[j] + sigma_eta2_ - bp, 0)) * Q[perm[j], j]
               for j in range(len(a_list))) / sigma_eta2_
    return out


def _log_rational_simplify(e):
    """Split every logarithm into logs of factors, then exact rational arithmetic (the TIE structure steps)."""
    e = sp.expand(e).replace(sp.log, lambda arg: sp.log(sp.factor(arg)))
    return rational_simplify(sp.expand_log(e, force=True))


def _log_simplify(e):
    e = sp.simplify(e)
    e = e.replace(sp.log, lambda arg: sp.log(sp.factor(arg)))
    return sp.simplify(sp.expand_log(e, force=True))


def closed_form_gradient(regime, lams, n, kk, sig_p, encoder=general_mode_encoder):
    """(Sigma_x, parameter point, dL/dtheta there) at the closed form with Sigma_x = diag(lams) in the given regime.

    ``sig_p`` is a positive symbol standing for sigma_p (sigma_p2 = sig_p^2 keeps the gradient rational);
    ``encoder`` gives (gain, variance) per unit (a parameter so that tests can break it).
    """
    C = concrete(n, kk)
    obj = explicit(general_objective_expr(), n, kk).subs(sigma_p2, sig_p ** 2)
    Sx = sp.diag(*[regime.get(l_, l_) for l_ in lams])
    gain, var = zip(*(encoder(Sx[i, i], beta, sigma_d2, sig_p ** 2) for i in range(kk)))
    Dm, Wm = sp.zeros(n, kk), sp.zeros(kk, n)
    for i in range(kk):
        Dm[i, i] = sp.sqrt(general_mode_d2(Sx[i, i], beta, sigma_d2, sig_p ** 2))
        Wm[i, i] = gain[i]
    point = {**dict(zip(C.D, Dm)), **dict(zip(C.W_mu, Wm)), **dict(zip(C.b_mu, [0] * kk)),
             **dict(zip(C.W_sigma, [0] * (kk * n))), **dict(zip(C.b_sigma, [sp.log(v) for v in var])),
             **dict(zip(C.b_D, [0] * n)), **{C.Sigma_x[i, j]: Sx[i, j] for i in range(n) for j in range(n)}}
    grad = sp.Matrix([sp.diff(obj, p) for p in C.parameter_symbols()]).subs(point)
    return Sx, point, grad


# ------------------------------------------------------------------ sections
@lru_cache(maxsize=None)
def general_optimum_section(n: int = 3, kk: int = 2) -> Section:
    sec = Section("general.optimum", "The optimum of the general model in closed form",
                  "Sigma_x = diag(lambda_1, ..., lambda_N) (its eigenbasis), D = [diag(d); 0]: the gradient of the general "
                  "objective vanishes at the closed form with unit 1 active and unit 2 either active or collapsed, and every "
                  "term equals its closed form. beta' = beta sigma_d2; sigma_p enters the parameters only.")
    lams = sp.symbols(f"lambda1:{n + 1}", positive=True)
    u = sp.symbols(f"u1:{kk + 1}", positive=True)
    sig_p = sp.Symbol("sigma_p", positive=True)          # sigma_p2 = sigma_p^2 keeps the gradient rational
    bp = rescaled_beta()
    regimes = (("active", {lams[i]: bp + u[i] ** 2 for i in range(kk)}),
               ("collapsed2", {lams[0]: bp + u[0] ** 2, lams[1]: bp / (1 + u[1] ** 2)}))
    rec, kl = (explicit(e, n, kk) for e in (general_reconstruction_expr(), general_kl_expr()))
    for label, regime in regimes:
        Sx, point, grad = closed_form_gradient(regime, lams, n, kk, sig_p)
        sec.add(prove(f"general.optimum.gradient.{label}",
                      f"dL/dtheta of the general objective = 0 at the closed form ({label}; all {len(grad)} parameter entries)",
                      grad, sp.zeros(len(grad), 1), concrete_method(n, kk), simplifier=rational_simplify))
        Dm = sp.Matrix(n, kk, lambda i, j: point[concrete(n, kk).D[i, j]])
        closed = general_closed_form_totals(n, list(Sx.diagonal()[:kk]), sum(Sx.diagonal()[kk:]))
        for name, ex in (("reconstruction", rec), ("kl", kl)):
            val = ex.subs({sigma_p2: sig_p ** 2}).subs(point).subs(sig_p, sp.sqrt(sigma_p2))
            sec.add(prove(f"general.optimum.{name}.{label}", f"{name} at the optimum ({label}) = closed form",
                          val, closed[name], concrete_method(n, kk), simplifier=_log_simplify))
        ll = expected_loglik(Dm.subs(sig_p, sp.sqrt(sigma_p2)), sp.zeros(n, 1), Sx, sigma_d2, sigma_p2)
        sec.add(prove(f"general.optimum.loglik.{label}",
                      f"E_x log N(x; 0, sigma_p2 D D^T + sigma_d2 I) at the optimum ({label}) = closed form "
                      "(tail eigenvalues through their sum)", ll, closed["log_likelihood"], concrete_method(n, kk),
                      equation="57", simplifier=_log_simplify))
    # MIE = KL(q(z|x) || p(z|x)) from eq. (25) with the general model posterior, N = k = 1, one active unit
    u1 = u[0]
    lam1 = bp + u1 ** 2
    d1 = sp.sqrt(general_mode_d2(lam1))
    g1, v1 = general_mode_encoder(lam1)
    prec = d1 ** 2 / sigma_d2 + 1 / sigma_p2          # posterior precision D^T D / sigma_d2 + I / sigma_p2
    mie25 = explicit(inference_error_form(), 1, 1, extra={
        E_inv: sp.Matrix([[prec]]), F: sp.Matrix([[d1 / sigma_d2 / prec]]), W_mu: sp.Matrix([[g1]]),
        b_mu: sp.zeros(1, 1), W_sigma: sp.zeros(1, 1), b_sigma: sp.Matrix([[sp.log(v1)]]), Sigma_x: sp.Matrix([[lam1]])})
    mie25 = mie25[0, 0] if isinstance(mie25, sp.MatrixBase) else mie25
    sec.add(prove("general.optimum.mie", "MIE from eq. (25) with the general model posterior (one active unit) = "
                  "log-likelihood - ELBO (closed form)", mie25, general_closed_form_totals(1, [lam1], 0)["mie"],
                  "scalar, N = k = 1", equation="25", simplifier=_log_simplify))
    return sec


@lru_cache(maxsize=None)
def general_tie_section() -> Section:
    sec = Section("general.tie", "TIE of the general model for noise sigma_eta2",
                  "The posterior of x = A s + eta, eta ~ N(0, sigma_eta2 I): precision (A^T A + sigma_eta2 I) / sigma_eta2, "
                  "mean (A^T A + sigma_eta2 I)^-1 A^T x. Eq. (25) with this posterior and an encoder in the gauge z / sigma_p "
                  "equals the unit model's structured TIE at A / sigma_eta with encoder gains sigma_eta w; at the optimum this "
                  "gives TIE_general(A, beta) = TIE_unit(A / sigma_eta, beta sigma_d2 / sigma_eta2).")
    kk = 2
    Q = sp.Matrix([[sp.Rational(3, 5), -sp.Rational(4, 5)], [sp.Rational(4, 5), sp.Rational(3, 5)]])
    sig = sp.symbols("sigma1:3", positive=True)
    ws = sp.symbols("w1:3", real=True)
    ss = sp.symbols("s1:3", positive=True)
    e = sigma_eta2
    A = sp.diag(*sig) * Q.T
    Einv = (A.T * A + e * sp.eye(kk)) / e
    Fm = (A.T * A + e * sp.eye(kk)).adjugate() * A.T / sp.factor((A.T * A + e * sp.eye(kk)).det())
    Sx = A * A.T + e * sp.eye(kk)
    for perm, signs in (((0, 1), (1, 1)), ((1, 0), (1, -1))):
        val = tie_at_relabelling(Einv, Fm, Sx, perm, signs, ws, ss)
        scaled = tie_structured([s_ ** 2 / e for s_ in sig], Q, perm, signs, ss, [sp.sqrt(e) * w for w in ws])
        tag = "".join(map(str, perm)) + "." + "".join("+" if s_ > 0 else "-" for s_ in signs)
        sec.add(prove(f"general.tie.structure.{tag}",
                      f"TIE (eq. 25, noisy posterior), latents relabelled by perm {perm}, signs {signs} = unit structured "
                      "TIE at a / sigma_eta2 with gains sigma_eta w", val, scaled, concrete_method(kk, kk) + ", Q = 3-4-5 rotation",
                      equation="25", simplifier=_log_rational_simplify))
    # at the optimum: unit 1 active, unit 2 collapsed (lambda_j = a_j + sigma_eta2, beta' = b)
    b, u1, u2 = sp.symbols("b u1 u2", positive=True)
    a_list = [b - e + u1 ** 2, b / (1 + u2 ** 2) - e]
    at = {beta: b / sigma_d2}
    gains, variances = zip(*(general_mode_encoder(a_ + e, b / sigma_d2, sigma_d2, 1) for a_ in a_list))
    for perm, signs in (((0, 1), (1, 1)), ((1, 0), (-1, 1))):
        structured = tie_structured([a_ / e for a_ in a_list], Q, perm, signs, variances,
                                    [sp.sqrt(e) * g for g in gains])
        tag = "".join(map(str, perm)) + "." + "".join("+" if s_ > 0 else "-" for s_ in signs)
        closed = general_tie_closed_form(a_list, Q, perm, signs).subs(at)
        sec.add(prove(f"general.tie.optimum.{tag}",
                      "structured TIE at the optimum (unit 1 active, unit 2 collapsed) = sum a/sigma_eta2 - (1/2) sum log(1 + "
                      "a/sigma_eta2) + KL - (1/sigma_eta2) sum_j signs_j sqrt(a_j (lambda_j - beta')^+) Q[perm_j, j]",
                      structured, closed, "scalar, k = 2, Q = 3-4-5 rotation", simplifier=_log_simplify))
        unit = tie_closed_form([a_ / e for a_ in a_list], Q, perm, signs, b / e)
        sec.add(prove(f"general.tie.unit.{tag}", "TIE_general(A, beta) = TIE_unit(A / sigma_eta, beta sigma_d2 / sigma_eta2)",
                      closed, unit, "scalar, k = 2", simplifier=_log_simplify))
    return sec


@lru_cache(maxsize=None)
def literature_section() -> Section:
    sec = Section("general.literature", "Known results recovered by the general closed form",
                  "PPCA (Tipping & Bishop 1999), the collapse threshold (Lucas et al. 2019) and PCA directions "
                  "(Rolinek et al. 2019).")
    n, kk = 3, 2
    lams = sp.symbols(f"lambda1:{n + 1}", positive=True)
    u1, u2 = sp.symbols("u1 u2", positive=True)
    s2 = sigma_d2
    regime = {lams[0]: s2 + u1 ** 2, lams[1]: s2 / (1 + u2 ** 2)}      # unit 1 active, unit 2 collapsed
    S = sp.diag(*lams).subs(regime)
    W = sp.zeros(n, kk)
    for i in range(kk):
        W[i, i] = sp.sqrt(general_mode_d2(S[i, i], 1, s2, 1))
    Cm = W * W.T + s2 * sp.eye(n)
    sec.add(prove("general.literature.ppca.stationary",
                  "PPCA: at beta = 1, sigma_p2 = 1 the optimal decoder W = D satisfies S C^-1 W = W, C = W W^T + sigma^2 I "
                  "(sigma^2 = sigma_d2; unit 1 active, unit 2 collapsed)", S * Cm.inv() * W, W, concrete_method(n, kk),
                  simplifier=sp.simplify))
    tb = sp.Max(lam - s2, 0)                  # Tipping & Bishop: W = U (Lambda - sigma^2 I)^(1/2), zero where lambda <= sigma^2
    sec.add(prove("general.literature.ppca.gain", "PPCA: d^2 at beta = 1, sigma_p2 = 1 equals T&B's max(lambda - sigma^2, 0)",
                  general_mode_d2(lam, 1, s2, 1), tb, "scalar, per unit"))
    # collapse threshold: the set of lambda > 0 with d^2 = 0
    t = sp.Symbol("t", positive=True)
    below = general_mode_d2(rescaled_beta() / (1 + t))                  # lambda < beta sigma_d2
    above = general_mode_d2(rescaled_beta() + t)                        # lambda > beta sigma_d2
    sec.add(record("general.literature.collapse",
                   "collapse threshold: d^2 = 0 iff lambda <= beta sigma_d2 (d^2 = 0 below and at the threshold, t / sigma_p2 > 0 above)",
                   sp.Tuple(below, general_mode_d2(rescaled_beta()), above), sp.Tuple(0, 0, t / sigma_p2),
                   sp.Integer(0) if (below, general_mode_d2(rescaled_beta()), sp.simplify(above - t / sigma_p2)) == (0, 0, 0)
                   else sp.Tuple(below, above), "scalar, per unit, lambda = beta sigma_d2 / (1 + t), beta sigma_d2, beta sigma_d2 + t"))
    # PCA directions: with Sigma_x = U diag(lambda) U^T, D = U_k diag(d) satisfies Sigma_x D = D diag(lambda_top)
    U = sp.Matrix([[1, 2, 2], [2, 1, -2], [2, -2, 1]]) / 3
    Sx = U * sp.diag(*lams) * U.T
    d = [sp.sqrt(general_mode_d2(lams[i])) for i in range(kk)]
    Dm = U[:, :kk] * sp.diag(*d)
    sec.add(prove("general.literature.pca", "PCA directions: Sigma_x D = D diag(lambda_1, lambda_2) at the closed form",
                  Sx * Dm, Dm * sp.diag(*lams[:kk]), concrete_method(n, kk) + ", U a rational rotation",
                  simplifier=sp.simplify))
    return sec


@lru_cache(maxsize=None)
def beta_zero_section() -> Section:
    sec = Section("general.beta0", "The limit beta -> 0+ (a plain autoencoder with a noise-free encoder)",
                  "beta = lambda epsilon / (sigma_d2 (1 + epsilon)) maps epsilon -> 0+ onto beta -> 0+ and resolves the "
                  "max/min of an active unit (lambda > beta sigma_d2 near 0); the limits are taken with sympy.limit.")
    eps = sp.Symbol("epsilon", positive=True)
    b0 = lam * eps / (sigma_d2 * (1 + eps))
    unit_rec = -general_mode_reconstruction(lam, b0) / (2 * sigma_d2)
    unit_kl = general_mode_kl(lam, b0)
    limits = (("reconstruction", unit_rec, 0, "unit reconstruction term -min(beta', lambda) / (2 sigma_d2) -> 0 (finite)"),
              ("objective", unit_rec - b0 * unit_kl, 0, "unit objective term -> 0 (finite: beta log beta -> 0)"),
              ("kl", unit_kl, sp.oo, "unit KL (1/2) log max(lambda/beta', 1) -> oo"),
              ("variance", general_mode_encoder(lam, b0)[1], 0, "encoder variance sigma_p2 beta' / (d'^2 + beta') -> 0"),
              ("d2", general_mode_d2(lam, b0), lam / sigma_p2, "decoder gain d^2 -> lambda / sigma_p2"))
    for key, expr, value, title in limits:
        got = sp.limit(expr, eps, 0, "+")
        sec.add(record(f"general.beta0.{key}", title, got, value, sp.Integer(0) if got == value else sp.Tuple(got, value),
                       "sympy.limit, epsilon -> 0+"))
    return sec


def section_builders() -> dict:
    """The general model's sections, in order, for :func:`derivations.document.section_builders`."""
    return {"general": general_objective_section, "general.scaling": scaling_section,
            "general.optimum": general_optimum_section, "general.tie": general_tie_section,
            "general.literature": literature_section, "general.beta0": beta_zero_section}


__all__ = ["general_mode_d2", "general_mode_encoder", "general_mode_reconstruction", "general_mode_kl",
           "general_mode_loglik", "general_closed_form_totals", "general_tie_closed_form", "section_builders"]
