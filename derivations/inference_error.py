"""Inference errors MIE and TIE, eqs. (25)-(27) and (60)-(61) (Appendix B-E).

Both are E_x KL(q(z|x) || N(F x, E)): for MIE the model posterior (E, F of eq. 26), for TIE the
ground-truth posterior (eq. 27). The Gaussian KL is derived with the engine, then averaged
over x ~ N(0, Sigma_x) at general dimension, and re-derived entry by entry at concrete
dimension.

The formula is written with the precision E^-1 (``E_inv``), which is what eqs. (26)-(27) give in
closed form (D^T D + I_k or A^T A + I_k).

>>> from derivations.symbols import b_mu
>>> inference_error_form().has(b_mu)        # the b_mu term that eq. (25) omits
True
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

from .explicit import explicit
from .gaussian import expect_polynomial
from .objective import concrete
from .stationarity import unit_variance_vector
from .steps import Section, concrete_method, prove
from .symbols import Sigma_x, W_mu, b_mu, b_sigma, k

E_inv = sp.MatrixSymbol("E_inv", k, k)
F = sp.MatrixSymbol("F", k, sp.Symbol("N", integer=True, positive=True))


def inference_error_form():
    """Eq. (25) as derived: (1/2){Tr(E^-1 diag e) - sum b_sigma + log det E + Tr[(F-W)^T E^-1 (F-W) Sigma_x]
    + b_mu^T E^-1 b_mu - k}, a 1 x 1 matrix expression (log det E = -log det E_inv)."""
    e = unit_variance_vector()
    G = F - W_mu
    return (sp.Trace(E_inv * DiagMatrix(e)) - sp.Trace(sp.OneMatrix(1, k) * b_sigma)
            - sp.log(sp.Determinant(E_inv)) + sp.Trace(G.T * E_inv * G * Sigma_x)
            + sp.Trace(b_mu.T * E_inv * b_mu) - k) / 2


def gaussian_kl_explicit(mu, S_diag, m, G):
    """KL(N(mu, diag S) || N(m, G^-1)) via E_q[log q - log p], by the engine (explicit, k = len(mu))."""
    kk = len(mu)
    z = sp.Matrix(kk, 1, lambda i, j: sp.Symbol(f"z_{i + 1}", real=True))
    S = sp.diag(*S_diag)
    Sinv = sp.diag(*[1 / s for s in S_diag])
    log_q = -sum(sp.log(s) for s in S_diag) / 2 - ((z - mu).T * Sinv * (z - mu))[0, 0] / 2
    log_p = sp.log(G.det()) / 2 - ((z - m).T * G * (z - m))[0, 0] / 2
    return expect_polynomial(sp.expand(log_q - log_p), list(z), mu, S)


@lru_cache(maxsize=None)
def inference_error_section(n: int = 3, kk: int = 2) -> Section:
    sec = Section("eq25", "Inference errors MIE / TIE (eqs. 25-27, 60-61, Appendix B-E)",
                  "KL(q(z|x) || N(Fx, E)) from the engine, averaged over the data; MIE takes (26), TIE (27).")
    C = concrete(n, kk)
    t = sp.symbols(f"t1:{kk + 1}", positive=True)
    G = sp.Matrix(kk, kk, lambda i, j: sp.Symbol(f"G_{min(i, j) + 1}{max(i, j) + 1}", real=True))
    mu = sp.Matrix(kk, 1, lambda i, j: sp.Symbol(f"mu_{i + 1}", real=True))
    m = sp.Matrix(kk, 1, lambda i, j: sp.Symbol(f"m_{i + 1}", real=True))
    kl = gaussian_kl_explicit(mu, list(t), m, G)
    stated = ((G * sp.diag(*t)).trace() + ((m - mu).T * G * (m - mu))[0, 0] - kk
              - sp.log(G.det()) - sum(sp.log(ti) for ti in t)) / 2
    sec.add(prove("eq61.kl", "KL(N(mu, Sigma_z) || N(m, E)) = (1/2)[Tr(E^-1 Sigma_z) + (m-mu)^T E^-1 (m-mu) - k "
                  "+ log det E - log det Sigma_z]", kl, stated, concrete_method(kk, kk), equation="61",
                  simplifier=lambda e: sp.expand(sp.expand_log(e, force=True))))
    # average over x at concrete (n, kk), entry by entry: mu = W_mu x + b_mu, m = F x, t_i = exp(log-var_i)
    Fc = sp.Matrix(kk, n, lambda i, j: sp.Symbol(f"F_{i + 1}{j + 1}", real=True))
    mu_x = C.W_mu * C.x + C.b_mu
    lv = C.W_sigma * C.x + C.b_sigma
    per_x = sp.expand(stated.subs({**dict(zip(mu, mu_x)), **dict(zip(m, Fc * C.x))}))
    per_x = sp.expand(sp.expand_log(per_x, force=True).subs({sp.log(ti): lvi for ti, lvi in zip(t, lv)}))
    averaged = 0
    rest = per_x
    for i, ti in enumerate(t):
        coeff = rest.coeff(ti)
        rest = sp.expand(rest - coeff * ti)
        a = C.W_sigma[i, :].T
        averaged += coeff * sp.exp(C.b_sigma[i] + (a.T * C.Sigma_x * a)[0, 0] / 2)
    averaged += expect_polynomial(rest, list(C.x), sp.zeros(n, 1), C.Sigma_x)
    general = explicit(inference_error_form(), n, kk, extra={E_inv: G, F: Fc})
    general = general[0, 0] if isinstance(general, sp.MatrixBase) else general
    sec.add(prove("eq25.average", "E_x KL: general-dimension form (25, with b_mu term) = entry-by-entry average",
                  general, averaged, concrete_method(n, kk), equation="25",
                  simplifier=lambda e: sp.expand(sp.expand_log(sp.expand(e), force=True))))
    return sec
