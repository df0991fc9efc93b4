"""The general linear beta-VAE (issue 13): decoder variance sigma_d2, prior variance sigma_p2.

Model: q(z|x) = N(W_mu x + b_mu, diag(exp(W_sigma x + b_sigma))) (eq. 20), p(x|z) = N(D z + b_D, sigma_d2 I_N),
p(z) = N(0, sigma_p2 I_k), x ~ N(0, Sigma_x). The objective L = E_x[E_q log p(x|z) - beta KL(q || p)] keeps every
constant. At general N, k it reuses the named pieces of :func:`derivations.objective.objective_terms` (which do
not depend on the variances); an independent route at concrete dimension writes both log-densities with
explicit components and averages them (:func:`concrete_general_objective`).

Two exact reductions to the paper's unit model are proved here:

(a) decoder variance rescales beta: L(theta; beta, sigma_d2, 1) = L_unit(theta; beta sigma_d2) / sigma_d2 + C,
    and equivalently the model on Sigma_x equals the unit model on Sigma_x / sigma_d2 at the same beta with
    rescaled parameters, every log-density shifted by -(N/2) log sigma_d2;
(b) prior variance rescales z: L(theta; beta, sigma_d2, sigma_p2) = L(theta~; beta, sigma_d2, 1).

>>> from derivations.symbols import sigma_d2, sigma_p2
>>> general_objective_expr().subs({sigma_d2: 1, sigma_p2: 1}) == objective_expr()
True
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .explicit import explicit
from .gaussian import expect_polynomial
from .objective import objective_expr, objective_terms
from .steps import GENERAL, Section, concrete_method, prove, rational_simplify
from .symbols import N, beta, concrete, k, sigma_d2, sigma_p2

__all__ = ["general_reconstruction_expr", "general_kl_expr", "general_objective_expr", "general_elbo_expr",
           "rescaled_beta", "decoder_constant", "concrete_general_objective", "general_objective_section",
           "scaling_section", "objective_general_explicit", "explicit_parameters",
           "objective_at_unit_prior", "expected_loglik", "exp_normal_form"]


# ------------------------------------------------------------------ general dimension
def general_reconstruction_expr():
    """E_x E_q log N(x; D z + b_D, sigma_d2 I): -(N/2) log(2 pi sigma_d2) - (squared-error pieces) / (2 sigma_d2)."""
    T = objective_terms()
    return (-N * sp.log(2 * sp.pi * sigma_d2) / 2
            - (T["recon_quadratic"] + T["recon_bias"] + T["recon_variance"]) / (2 * sigma_d2))


def general_kl_expr():
    """E_x KL(q(z|x) || N(0, sigma_p2 I_k)) = (1/2)[(kl_variance + kl_mean)/sigma_p2 - k - kl_logdet + k log sigma_p2]."""
    T = objective_terms()
    return ((T["kl_variance"] + T["kl_mean"]) / sigma_p2 - k - T["kl_logdet"] + k * sp.log(sigma_p2)) / 2


def general_objective_expr():
    return general_reconstruction_expr() - beta * general_kl_expr()


def general_elbo_expr():
    return general_reconstruction_expr() - general_kl_expr()


def rescaled_beta(beta_=beta, sigma_d2_=sigma_d2):
    """The unit model's beta that a decoder variance sigma_d2 amounts to: beta' = beta sigma_d2 (identity (a))."""
    return beta_ * sigma_d2_


def decoder_constant(N_=N, sigma_d2_=sigma_d2):
    """C of identity (a): L = L_unit(beta') / sigma_d2 + C, C = (N/2) log(2 pi) / sigma_d2 - (N/2) log(2 pi sigma_d2)."""
    return N_ * sp.log(2 * sp.pi) / (2 * sigma_d2_) - N_ * sp.log(2 * sp.pi * sigma_d2_) / 2


def objective_general_explicit(n, kk, params=None, beta_=beta, sigma_d2_=sigma_d2, sigma_p2_=sigma_p2):
    """The general objective at concrete (n, kk): explicit matrices for the parameters (default: symbolic entries).

    ``params`` maps the MatrixSymbols W_mu, ..., Sigma_x to explicit matrices.
    """
    v = explicit(general_objective_expr(), n, kk, extra=params)
    v = v[0, 0] if isinstance(v, sp.MatrixBase) else v
    return v.subs({beta: beta_, sigma_d2: sigma_d2_, sigma_p2: sigma_p2_}, simultaneous=True)


# ------------------------------------------------------------------ concrete, from the log-densities
class ConcreteGeneralObjective:
    """Reconstruction and KL at fixed (N, k), averaged entry by entry from the explicit log-densities."""

    def __init__(self, reconstruction, kl):
        self.reconstruction, self.kl = reconstruction, kl

    @property
    def objective(self):
        return self.reconstruction - beta * self.kl


@lru_cache(maxsize=None)
def concrete_general_objective(n: int = 3, kk: int = 2) -> ConcreteGeneralObjective:
    """Independent route: log N(x; D z + b_D, sigma_d2 I) and log q(z) - log N(z; 0, sigma_p2 I) written with
    explicit components and every 2 pi kept, z = mu + diag(h) eps reparameterised, averaged over eps (or z),
    then over x ~ N(0, Sigma_x) (moment rules for the polynomial part, the MGF for each exp((W_sigma x + b_sigma)_i)).
    """
    C = concrete(n, kk)
    xs = list(C.x)
    mu = C.W_mu * C.x + C.b_mu
    log_var = C.W_sigma * C.x + C.b_sigma
    h = sp.symbols(f"h1:{kk + 1}", positive=True)           # posterior standard deviations
    eps = sp.Matrix(kk, 1, lambda i, j: sp.Symbol(f"eps_{i + 1}", real=True))
    r = C.x - C.D * (mu + sp.diag(*h) * eps) - C.b_D
    log_lik = -sp.Rational(n, 2) * sp.log(2 * sp.pi * sigma_d2) - (r.T * r)[0, 0] / (2 * sigma_d2)
    rec_x = expect_polynomial(log_lik, list(eps), sp.zeros(kk, 1), sp.eye(kk))
    z = sp.Matrix(kk, 1, lambda i, j: sp.Symbol(f"z_{i + 1}", real=True))
    log_q = sum(-sp.log(2 * sp.pi) / 2 - sp.log(h[i]) - (z[i] - mu[i]) ** 2 / (2 * h[i] ** 2) for i in range(kk))
    log_p = sum(-sp.log(2 * sp.pi * sigma_p2) / 2 - z[i] ** 2 / (2 * sigma_p2) for i in range(kk))
    kl_x = expect_polynomial(log_q - log_p, list(z), mu, sp.diag(*[hi ** 2 for hi in h]))
    t = sp.symbols(f"t1:{kk + 1}", positive=True)            # t_i = h_i^2 = exp(log_var_i)
    to_t = {hi: sp.sqrt(ti) for hi, ti in zip(h, t)}
    logs = {sp.log(ti): lv for ti, lv in zip(t, log_var)}

    def average(e):
        e = sp.expand(sp.expand_log(sp.expand(e.subs(to_t)), force=True)).subs(logs)
        e = sp.expand(e)
        out = 0
        for i, ti in enumerate(t):
            coeff = e.coeff(ti)
            e = sp.expand(e - coeff * ti)
            if coeff.free_symbols & set(xs):
                raise ValueError("variance term with an x-dependent coefficient")
            a = C.W_sigma[i, :].T
            out += coeff * sp.exp(C.b_sigma[i] + (a.T * C.Sigma_x * a)[0, 0] / 2)
        if e.free_symbols & set(t):
            raise ValueError("not affine in the variances")
        return sp.expand(out + expect_polynomial(e, xs, sp.zeros(n, 1), C.Sigma_x))

    return ConcreteGeneralObjective(average(rec_x), average(kl_x))


def _log_expand(e):
    return sp.expand(sp.expand_log(sp.expand(e), force=True))


# ------------------------------------------------------------------ sections
@lru_cache(maxsize=None)
def general_objective_section(n: int = 3, kk: int = 2) -> Section:
    sec = Section("general", "The general model: decoder and prior variances (beyond the paper)",
                  "p(x|z) = N(Dz + b_D, sigma_d2 I), p(z) = N(0, sigma_p2 I); the general-dimension objective "
                  "(the unit model's named pieces divided by the variances, plus the log-normalisers) is re-derived "
                  "at concrete dimension from the explicit log-densities.")
    CG = concrete_general_objective(n, kk)
    for name, general, route in (("reconstruction", general_reconstruction_expr(), CG.reconstruction),
                                 ("kl", general_kl_expr(), CG.kl)):
        v = explicit(general, n, kk)
        sec.add(prove(f"general.{name}", f"E_x {name} of the general model: general-dimension form = entry-by-entry form",
                      v, route, concrete_method(n, kk), simplifier=_log_expand))
    sec.add(prove("general.unit", "at sigma_d2 = sigma_p2 = 1 the general objective is the paper's (eq. 21 with constants)",
                  general_objective_expr().subs({sigma_d2: 1, sigma_p2: 1}), objective_expr(), GENERAL,
                  simplifier=sp.expand))
    return sec


def explicit_parameters(n, kk, **over):
    """Explicit parameter matrices at (n, kk) (symbolic entries), with some replaced."""
    from .symbols import D, Sigma_x, W_mu, W_sigma, b_D, b_mu, b_sigma
    C = concrete(n, kk)
    out = {W_mu: C.W_mu, b_mu: C.b_mu, W_sigma: C.W_sigma, b_sigma: C.b_sigma, D: C.D, b_D: C.b_D,
           Sigma_x: C.Sigma_x}
    names = {"W_mu": W_mu, "b_mu": b_mu, "W_sigma": W_sigma, "b_sigma": b_sigma, "D": D, "b_D": b_D,
             "Sigma_x": Sigma_x}
    out.update({names[key]: sp.Matrix(v) for key, v in over.items()})
    return out


def _unit_terms(n, kk, params):
    """(reconstruction, KL, objective at beta) of the paper's unit model at explicit parameters."""
    from .objective import kl_expr, reconstruction_expr
    rec = explicit(reconstruction_expr(), n, kk, extra=params)
    kl = explicit(kl_expr(), n, kk, extra=params)
    return rec, kl


def exp_normal_form(e):
    """Normal form for the scaling identities: combine exponentials, then exact rational arithmetic."""
    e = _log_expand(sp.powsimp(sp.expand(e), combine="exp"))
    e = sp.expand(e.replace(sp.exp, lambda arg: sp.exp(sp.expand(arg))))
    return e if e == 0 else rational_simplify(e)


@lru_cache(maxsize=None)
def scaling_section(n: int = 3, kk: int = 2) -> Section:
    """Identities (a) and (b): the variances are a rescaling of beta, of the data and of z."""
    sec = Section("general.scaling", "The variances are rescalings: decoder variance = beta, prior variance = z",
                  "(a) L(theta; beta, sigma_d2, 1) = L_unit(theta; beta sigma_d2) / sigma_d2 + C for every theta, so the "
                  "optimum at (beta, sigma_d2) is the unit model's at beta' = beta sigma_d2; equivalently the model on "
                  "Sigma_x is the unit model on Sigma_x / sigma_d2 with x' = x / sigma_d. (b) The prior variance is "
                  "absorbed by z -> z / sigma_p.")
    unit_at = objective_expr().subs(beta, rescaled_beta())
    sec.add(prove("general.scaling.beta", "(a) L(theta; beta, sigma_d2, sigma_p2 = 1) = L_unit(theta; beta sigma_d2) / sigma_d2 + C",
                  general_objective_expr().subs(sigma_p2, 1), unit_at / sigma_d2 + decoder_constant(), GENERAL,
                  simplifier=lambda e: sp.expand(sp.expand_log(sp.expand(e), force=True))))
    CG = concrete_general_objective(n, kk)
    from .objective import concrete_objective
    CU = concrete_objective(n, kk)
    sec.add(prove("general.scaling.beta.concrete",
                  "(a) by the independent routes: entry-by-entry general objective at sigma_p2 = 1 = "
                  "entry-by-entry unit objective at beta sigma_d2, / sigma_d2, + C",
                  CG.objective.subs(sigma_p2, 1), CU.objective.subs(beta, rescaled_beta()) / sigma_d2
                  + decoder_constant(n), concrete_method(n, kk), simplifier=_log_expand))
    # data scaling: x' = x / sigma_d, the unit model (sigma_d2 = 1) at the same beta
    sd = sp.sqrt(sigma_d2)
    C = concrete(n, kk)
    scaled = explicit_parameters(n, kk, W_mu=sd * C.W_mu, W_sigma=sd * C.W_sigma, D=C.D / sd, b_D=C.b_D / sd,
                        Sigma_x=C.Sigma_x / sigma_d2)
    rec_u, kl_u = _unit_terms(n, kk, scaled)
    shift = -sp.Rational(n, 2) * sp.log(sigma_d2)
    rec_g = explicit(general_reconstruction_expr(), n, kk).subs(sigma_p2, 1)
    kl_g = explicit(general_kl_expr(), n, kk).subs(sigma_p2, 1)
    sec.add(prove("general.scaling.data.reconstruction",
                  "(a) reconstruction(theta; Sigma_x, sigma_d2) = reconstruction_unit(theta'; Sigma_x / sigma_d2) - (N/2) log sigma_d2, "
                  "theta' = (sigma_d W_mu, b_mu, sigma_d W_sigma, b_sigma, D / sigma_d, b_D / sigma_d)",
                  rec_g, rec_u + shift, concrete_method(n, kk), simplifier=exp_normal_form))
    sec.add(prove("general.scaling.data.kl", "(a) KL(theta; Sigma_x) = KL_unit(theta'; Sigma_x / sigma_d2) (unchanged)",
                  kl_g, kl_u, concrete_method(n, kk), simplifier=exp_normal_form))
    sec.add(prove("general.scaling.data.objective",
                  "(a) objective and ELBO shift by -(N/2) log sigma_d2 at the same beta",
                  rec_g - beta * kl_g, rec_u - beta * kl_u + shift, concrete_method(n, kk), simplifier=exp_normal_form))
    # log-likelihood E_x log N(x; b_D, D D^T + sigma_d2 I) at N = 2, k = 1 (a determinant of symbolic entries)
    n2, k2 = 2, 1
    C2 = concrete(n2, k2)
    sec.add(prove("general.scaling.data.loglik",
                  "(a) E_x log N(x; b_D, D D^T + sigma_d2 I) = E_x' log N(x'; b_D', D' D'^T + I) - (N/2) log sigma_d2",
                  expected_loglik(C2.D, C2.b_D, C2.Sigma_x, sigma_d2, 1),
                  expected_loglik(C2.D / sd, C2.b_D / sd, C2.Sigma_x / sigma_d2, 1, 1) - sp.Rational(n2, 2) * sp.log(sigma_d2),
                  concrete_method(n2, k2), simplifier=lambda e: rational_simplify(_log_expand(e))))
    # (b) prior variance: theta~ = (W_mu / sigma_p, b_mu / sigma_p, W_sigma, b_sigma - log sigma_p2, D sigma_p, b_D)
    sp_ = sp.sqrt(sigma_p2)
    tilde = explicit_parameters(n, kk, W_mu=C.W_mu / sp_, b_mu=C.b_mu / sp_, D=C.D * sp_,
                       b_sigma=C.b_sigma - sp.log(sigma_p2) * sp.ones(kk, 1))
    lhs = explicit(general_objective_expr(), n, kk)
    rhs = objective_at_unit_prior(tilde, n, kk)
    sec.add(prove("general.scaling.prior",
                  "(b) L(theta; beta, sigma_d2, sigma_p2) = L(theta~; beta, sigma_d2, 1), theta~ = (W_mu/sigma_p, b_mu/sigma_p, "
                  "W_sigma, b_sigma - log sigma_p2, D sigma_p, b_D)", lhs, rhs, concrete_method(n, kk),
                  simplifier=exp_normal_form))
    return sec


def objective_at_unit_prior(params, n, kk):
    """The general objective at the given parameters with the prior variance set to 1 (other variances kept)."""
    expr = general_objective_expr().subs(sigma_p2, 1)
    v = explicit(expr, n, kk, extra=params)
    return v[0, 0] if isinstance(v, sp.MatrixBase) else v


def expected_loglik(Dm, bD, Sx, sigma_d2_, sigma_p2_):
    """E_x log N(x; b_D, sigma_p2 D D^T + sigma_d2 I) for x ~ N(0, Sx), explicit matrices (the evidence, eq. 57)."""
    from .steps import inv
    n = Dm.shape[0]
    Cm = sigma_p2_ * Dm * Dm.T + sigma_d2_ * sp.eye(n)
    Ci = inv(Cm)
    return (-sp.Rational(n, 2) * sp.log(2 * sp.pi) - sp.log(sp.factor(Cm.det())) / 2
            - (Ci * Sx).trace() / 2 - (bD.T * Ci * bD)[0, 0] / 2)
