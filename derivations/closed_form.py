"""Beyond the paper: the stationarity conditions solved in closed form.

Order of elimination (each step proved below):

1. b_D = -D b_mu from dL/db_D = 0, then dL/db_mu = -beta b_mu, so b_mu = b_D = 0 (eq. 22).
2. dL/dW_sigma = -(1/2) diag(c o e) W_sigma Sigma_x with c, e > 0 and Sigma_x > 0: W_sigma = 0.
3. dL/db_sigma = 0 with W_sigma = 0: exp(b_sigma_i) = beta / ([D^T D]_ii + beta).
4. dL/dW_mu = -(M W_mu - D^T) Sigma_x with M = D^T D + beta I_k: W_mu = M^-1 D^T.
5. The D-equation reduces to (D M^-1 D^T - I) Sigma_x D M^-1 + D diag(beta / c) = 0; it is covariant
   under x -> O x, so Sigma_x may be taken diagonal (its eigenbasis).
6. D = U diag(d) with U orthonormal eigenvectors of Sigma_x solves it iff, for each unit,
   d_i = 0 or d_i^2 = lambda_i - beta; the best such point takes the top-k eigenvalues and
   d_i^2 = max(lambda_i - beta, 0).

The per-unit closed forms (``mode_*``) of the reconstruction term, KL, ELBO, log-likelihood,
MIE and the TIE pieces follow, with every constant.

>>> mode_kl(4, 1) == log(4) / 2
True
>>> mode_kl(1, 2)                 # a collapsed unit carries no KL
0
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy import log  # noqa: F401  (used by the doctest)

from .explicit import explicit
from .inference_error import E_inv, F, inference_error_form
from .stationarity import gradient_forms
from .steps import GENERAL, Section, concrete_method, prove, rational_simplify, record
from .symbols import D, I_k, Sigma_x, W_mu, W_sigma, b_D, b_mu, b_sigma, beta, k

lam = sp.Symbol("lambda", positive=True)          # an eigenvalue of Sigma_x (lambda = 1 + a)
a_eig = sp.Symbol("a", nonnegative=True)          # an eigenvalue of A^T A
d = sp.Symbol("d", real=True)


# ------------------------------------------------------------------ per-unit closed forms
def mode_d2(lam_=lam, beta_=beta):
    """Squared decoder gain of one unit at the optimum: max(lambda - beta, 0)."""
    return sp.Max(lam_ - beta_, 0)


def mode_reconstruction(lam_=lam, beta_=beta):
    """Unit contribution to -2 x (reconstruction + (N/2) log 2pi): min(beta, lambda)."""
    return sp.Min(beta_, lam_)


def mode_kl(lam_=lam, beta_=beta):
    """Unit contribution to the KL: (1/2) log max(lambda / beta, 1)."""
    return sp.log(sp.Max(sp.sympify(lam_) / beta_, 1)) / 2


def mode_loglik(lam_=lam, beta_=beta):
    """Unit contribution to -2 x (log-likelihood + (N/2) log 2pi): log(1 + d^2) + lambda / (1 + d^2)."""
    g = 1 + mode_d2(lam_, beta_)
    return sp.log(g) + sp.sympify(lam_) / g


def mode_mie(lam_=lam, beta_=beta):
    """Unit contribution to MIE = log-likelihood - ELBO."""
    return (mode_reconstruction(lam_, beta_) - mode_loglik(lam_, beta_)) / 2 + mode_kl(lam_, beta_)


def mode_tie_weight(a_=a_eig, beta_=beta):
    """sqrt(a (1 + a - beta)^+): weight of |Q_{m i}| in the gauge-dependent part of TIE."""
    return sp.sqrt(a_ * mode_d2(1 + a_, beta_))


def closed_form_totals(N_, eigs_sigma, beta_=beta):
    """Reconstruction, KL, ELBO, objective and log-likelihood at the optimum, every constant kept.

    ``eigs_sigma``: the k top eigenvalues of Sigma_x; the other N - k eigenvalues are 1 (Sigma_x = A A^T + I).
    """
    base = -sp.sympify(N_) * sp.log(2 * sp.pi) / 2 - (sp.sympify(N_) - len(eigs_sigma)) / 2
    recon = base - sum(mode_reconstruction(l_, beta_) for l_ in eigs_sigma) / 2
    kl = sum(mode_kl(l_, beta_) for l_ in eigs_sigma)
    loglik = base - sum(mode_loglik(l_, beta_) for l_ in eigs_sigma) / 2
    return {"reconstruction": recon, "kl": kl, "elbo": recon - kl, "objective": recon - beta_ * kl,
            "log_likelihood": loglik, "mie": loglik - (recon - kl)}


def tie_closed_form(a_list, Q, perm, signs, beta_=beta):
    """TIE at the optimum for the latent relabelling z_j -> signs[j] z_{perm[j]} (Q: eigenvectors of A^T A).

    TIE = sum a - (1/2) sum log(1 + a) + sum KL_j - sum_j signs_j w_j Q[perm_j, j],  w_j = sqrt(a_j (1 + a_j - beta)^+).
    Minimised over signs: every sign matches Q's, leaving an assignment problem over perm.
    """
    out = sum(a_list) - sum(sp.log(1 + a_) for a_ in a_list) / 2
    out += sum(mode_kl(1 + a_, beta_) for a_ in a_list)
    out -= sum(signs[j] * mode_tie_weight(a_list[j], beta_) * Q[perm[j], j] for j in range(len(a_list)))
    return out


# ------------------------------------------------------------------ the elimination, step by step
@lru_cache(maxsize=None)
def closed_form_sections() -> list[Section]:
    return [elimination_section(), optimum_section(), tie_section()]


@lru_cache(maxsize=None)
def elimination_section() -> Section:
    sec = Section("closed", "Solving the stationarity conditions (beyond the paper)",
                  "Which parameters follow from D, and the reduced D-equation.")
    G = gradient_forms()
    sec.add(prove("closed.b_mu", "dL/db_mu with b_D = -D b_mu (from dL/db_D = 0) equals -beta b_mu, so b_mu = b_D = 0",
                  G["b_mu"].subs(b_D, -D * b_mu), -beta * b_mu, GENERAL, equation="22"))
    # W_sigma: explicit check that the gradient is diag(positive) W_sigma Sigma_x
    Ws0 = explicit(G["W_sigma"], 3, 2, extra={W_sigma: sp.zeros(2, 3)})
    sec.add(prove("closed.W_sigma", "dL/dW_sigma vanishes at W_sigma = 0 (and only there: diag(c o e) > 0, Sigma_x > 0)",
                  Ws0, sp.zeros(2, 3), concrete_method(3, 2), equation="23",
                  note="dL/dW_sigma = -(1/2) diag(c o e) W_sigma Sigma_x (proved in the stationarity section) "
                       "with c_i = [D^T D]_ii + beta >= beta > 0 and e_i > 0; Sigma_x is positive definite."))
    c, bs = sp.symbols("c b_s", positive=True)
    sol = sp.solve(sp.Eq(-c * sp.exp(bs) / 2 + beta / 2, 0), bs)
    sec.add(prove("closed.b_sigma", "dL/db_sigma_i = -(1/2) c_i exp(b_sigma_i) + beta/2 = 0  =>  b_sigma_i = log(beta/c_i)",
                  sp.exp(sol[0]), beta / c, "scalar, per unit (sympy.solve)", equation="23"))
    M = sp.MatrixSymbol("M", k, k)   # M = D^T D + beta I_k
    Minv = sp.MatrixSymbol("M^{-1}", k, k)
    sec.add(prove("closed.W_mu.form", "dL/dW_mu = -((D^T D + beta I_k) W_mu - D^T) Sigma_x",
                  G["W_mu"], -((D.T * D + beta * I_k) * W_mu - D.T) * Sigma_x, GENERAL, equation="23"))
    sec.add(prove("closed.W_mu", "at W_mu = M^-1 D^T: (M W_mu - D^T) = (M M^-1 - I_k) D^T = 0",
                  M * (Minv * D.T) - D.T, (M * Minv - I_k) * D.T, GENERAL))
    # covariance of the reduced D-equation under x -> O x (non-commuting symbols, O^T O = I)
    Dn, Dt, O, Ot, S, Mi, Dg = sp.symbols("D D^T O O^T Sigma_x M^{-1} Delta", commutative=False)
    reduced = (Dn * Mi * Dt - 1) * S * Dn * Mi + Dn * Dg
    rotated = reduced.subs({Dn: O * Dn, Dt: Dt * Ot, S: O * S * Ot}, simultaneous=True)
    rotated = sp.expand(sp.expand(rotated).subs(Ot * O, 1))
    sec.add(prove("closed.covariance", "D-equation R(D, Sigma_x) with D -> O D, Sigma_x -> O Sigma_x O^T equals O R(D, Sigma_x)",
                  rotated, sp.expand(O * reduced), GENERAL + " (non-commuting symbols, O^T O = I)",
                  note="M = D^T D + beta I and Delta = diag(beta / c) depend on D^T D only, which is invariant; "
                       "so Sigma_x may be taken diagonal."))
    return sec


@lru_cache(maxsize=None)
def optimum_section(n: int = 3, kk: int = 2) -> Section:
    sec = Section("optimum", "The optimum in closed form",
                  "In the eigenbasis of Sigma_x = diag(lambda_1, ..., lambda_N) the ansatz D = [diag(d); 0] "
                  "reduces every condition to one scalar equation per unit.")
    lams = sp.symbols(f"lambda1:{n + 1}", positive=True)
    ds = sp.symbols(f"d1:{kk + 1}", real=True)
    Sx = sp.diag(*lams)
    Dm = sp.zeros(n, kk)
    for i in range(kk):
        Dm[i, i] = ds[i]
    Mm = Dm.T * Dm + beta * sp.eye(kk)
    Wm = Mm.inv() * Dm.T
    c = [Mm[i, i] for i in range(kk)]
    bsig = sp.Matrix([sp.log(beta / ci) for ci in c])
    at = {W_mu: Wm, b_mu: sp.zeros(kk, 1), W_sigma: sp.zeros(kk, n), b_sigma: bsig, D: Dm, b_D: sp.zeros(n, 1),
          Sigma_x: Sx}
    GD = explicit(gradient_forms()["D"], n, kk, extra=at).applyfunc(sp.simplify)
    expected = sp.zeros(n, kk)
    for i in range(kk):
        expected[i, i] = -ds[i] * beta * (ds[i] ** 2 + beta - lams[i]) / (ds[i] ** 2 + beta) ** 2
    sec.add(prove("optimum.D_equation", "dL/dD at the ansatz: entry (i,i) = -d_i beta (d_i^2 + beta - lambda_i)/(d_i^2+beta)^2, others 0",
                  GD, expected, concrete_method(n, kk), simplifier=rational_simplify))
    roots = sp.FiniteSet(*sp.solve(expected[0, 0], ds[0]))
    stated = sp.FiniteSet(0, sp.sqrt(lams[0] - beta), -sp.sqrt(lams[0] - beta))
    sec.add(record("optimum.roots", "roots: d_1 in {0, +-sqrt(lambda_1 - beta)}", roots, stated,
                   sp.Integer(0) if roots == stated else sp.SymmetricDifference(roots, stated), "sympy.solve",
                   note="Real only when lambda_1 >= beta: the unit collapses (d = 0) otherwise."))
    # every other gradient vanishes at the ansatz
    for name in ("W_mu", "b_mu", "W_sigma", "b_sigma", "b_D"):
        g = explicit(gradient_forms()[name], n, kk, extra=at)
        g = g if isinstance(g, sp.MatrixBase) else sp.Matrix([[g]])
        sec.add(prove(f"optimum.{name}", f"dL/d{name} = 0 at the ansatz", g.applyfunc(sp.simplify),
                      sp.zeros(*g.shape), concrete_method(n, kk), simplifier=rational_simplify))
    # objective terms at the ansatz vs closed forms, both units active and unit 2 collapsed
    from .objective import kl_expr, reconstruction_expr
    active = {ds[i]: sp.sqrt(lams[i] - beta) for i in range(kk)}
    eigs = list(lams[:kk])
    u = [sp.Symbol(f"u{i + 1}", positive=True) for i in range(kk)]
    rest = sum(lams[kk:])
    for label, pt, regime in (("active", active, {lams[i]: beta + u[i] ** 2 for i in range(kk)}),
                              ("collapsed2", {ds[0]: sp.sqrt(lams[0] - beta), ds[1]: 0},
                               {lams[0]: beta + u[0] ** 2, lams[1]: beta - u[1] ** 2 / (1 + u[1] ** 2) * beta})):
        vals = {}
        for nm, ex in (("reconstruction", reconstruction_expr()), ("kl", kl_expr())):
            v = explicit(ex, n, kk, extra=at)
            v = v[0, 0] if isinstance(v, sp.MatrixBase) else v
            vals[nm] = v.subs(pt).subs(regime)
        closed = closed_form_totals(n, eigs)
        closed_rec = (closed["reconstruction"] + (sp.Integer(n) - kk) / 2 - rest / 2).subs(regime)
        sec.add(prove(f"optimum.reconstruction.{label}", f"reconstruction at the optimum ({label}) = closed form",
                      vals["reconstruction"], closed_rec, concrete_method(n, kk),
                      simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True))))
        sec.add(prove(f"optimum.kl.{label}", f"KL at the optimum ({label}) = (1/2) sum log max(lambda_i/beta, 1)",
                      vals["kl"], closed["kl"].subs(regime), concrete_method(n, kk),
                      simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True))))
    # data log-likelihood E_x log N(x; 0, D D^T + I) (eq. 57) at the optimum, both regimes
    for label, pt, regime in (("active", active, {lams[i]: beta + u[i] ** 2 for i in range(kk)}),
                              ("collapsed2", {ds[0]: sp.sqrt(lams[0] - beta), ds[1]: 0},
                               {lams[0]: beta + u[0] ** 2, lams[1]: beta / (1 + u[1] ** 2)})):
        C_ev = (Dm * Dm.T + sp.eye(n)).subs(pt)
        ll = (-sp.Rational(n, 2) * sp.log(2 * sp.pi) - sp.log(C_ev.det()) / 2
              - (C_ev.inv() * Sx).trace() / 2).subs(regime)
        closed_ll = (closed_form_totals(n, eigs)["log_likelihood"] + (sp.Integer(n) - kk) / 2 - rest / 2).subs(regime)
        sec.add(prove(f"optimum.loglik.{label}", f"E_x log N(x; 0, D D^T + I) at the optimum ({label}) = closed form",
                      ll, closed_ll, concrete_method(n, kk), equation="57", simplifier=_log_factor_simplify))
    # which stationary point is best: the gain of an active unit
    gain = (lam - beta - beta * sp.log(lam / beta)) / 2
    sec.add(prove("optimum.gain_zero", "gain of activating a unit, g(lambda) = (lambda - beta - beta log(lambda/beta))/2, vanishes at lambda = beta",
                  gain.subs(lam, beta), 0, "scalar"))
    sec.add(prove("optimum.gain_slope", "g'(lambda) = (1 - beta/lambda)/2 > 0 for lambda > beta: activate the top-k eigenvalues",
                  sp.diff(gain, lam), (1 - beta / lam) / 2, "scalar",
                  note="Objective at a stationary point = const - (1/2)[sum_inactive lambda_j + sum_active (beta + beta log(lambda_j/beta))]; "
                       "activating eigenvalue lambda > beta changes it by g(lambda) > 0, increasing in lambda. Among the "
                       "stationary points of the form D = U diag(d) the global maximum therefore uses the k largest "
                       "eigenvalues with d_i^2 = max(lambda_i - beta, 0). That no other stationary point is better is "
                       "checked numerically (tests and the `stationary` solver)."))
    # log-likelihood and MIE = LL - ELBO against eq. (25) with eq. (26)
    lamv = u[0] ** 2 + beta
    Dm1 = sp.sqrt(lamv - beta)
    # one unit, N = k = 1: eq. (25) with E^-1 = D^2 + 1, F = D / (D^2 + 1)
    s1 = beta / (Dm1 ** 2 + beta)
    w1 = Dm1 / (Dm1 ** 2 + beta)
    mie25 = explicit(inference_error_form(), 1, 1, extra={
        E_inv: sp.Matrix([[Dm1 ** 2 + 1]]), F: sp.Matrix([[Dm1 / (Dm1 ** 2 + 1)]]), W_mu: sp.Matrix([[w1]]),
        b_mu: sp.zeros(1, 1), W_sigma: sp.zeros(1, 1), b_sigma: sp.Matrix([[sp.log(s1)]]),
        Sigma_x: sp.Matrix([[lamv]])})
    mie25 = mie25[0, 0] if isinstance(mie25, sp.MatrixBase) else mie25
    sec.add(prove("optimum.mie", "MIE from eq. (25)-(26) at the optimum (one active unit) = log-likelihood - ELBO (closed form)",
                  mie25, mode_mie(lamv, beta), "scalar, N = k = 1",
                  simplifier=lambda e: sp.simplify(sp.expand_log(sp.simplify(e), force=True))))
    return sec


def tie_structured(a_list, Q, perm, signs, s_list, w_list):
    """TIE of an encoder with W_mu = Pi diag(w) P^T, Sigma_z = Pi diag(s) Pi^T against the ground truth.

    A = P diag(sqrt(a)) Q^T; Pi maps latent j to slot perm[j] with sign signs[j]:
    TIE = (1/2){ sum_j (1 + [A^T A])_{perm_j perm_j} (s_j + (1 + a_j) w_j^2) - sum log s_j - sum log(1 + a_j)
                 + sum a_j - 2 sum_j signs_j (1 + a_j) sqrt(a_j) w_j Q[perm_j, j] - k }.
    """
    kk = len(a_list)
    AtA = Q * sp.diag(*a_list) * Q.T
    out = sum((1 + AtA[perm[j], perm[j]]) * (s_list[j] + (1 + a_list[j]) * w_list[j] ** 2) for j in range(kk))
    out -= sum(sp.log(s_) for s_ in s_list) + sum(sp.log(1 + a_) for a_ in a_list)
    out += sum(a_list) - kk
    out -= 2 * sum(signs[j] * (1 + a_list[j]) * sp.sqrt(a_list[j]) * w_list[j] * Q[perm[j], j] for j in range(kk))
    return out / 2


def signed_permutations(kk: int):
    """Every relabelling of k latents: (perm, signs, tag), latent j -> slot perm[j] with sign signs[j]."""
    import itertools
    for perm in itertools.permutations(range(kk)):
        for signs in itertools.product((1, -1), repeat=kk):
            yield perm, signs, "".join(map(str, perm)) + "." + "".join("+" if x > 0 else "-" for x in signs)


def tie_at_relabelling(Einv, Fm, Sx, perm, signs, ws, ss):
    """Eqs. (25, 27) at the encoder W_mu = Pi diag(w), b_sigma[perm_j] = log s_j, b_mu = W_sigma = 0 (N = k), Pi the
    signed permutation (perm, signs): the one evaluation of TIE at a relabelled optimum that the TIE proofs share."""
    kk = len(ws)
    Pi, bs = sp.zeros(kk, kk), sp.zeros(kk, 1)
    for j in range(kk):
        Pi[perm[j], j] = signs[j]
        bs[perm[j]] = sp.log(ss[j])
    val = explicit(inference_error_form(), kk, kk, extra={
        E_inv: Einv, F: Fm, W_mu: Pi * sp.diag(*ws), b_mu: sp.zeros(kk, 1), W_sigma: sp.zeros(kk, kk),
        b_sigma: bs, Sigma_x: Sx})
    return val[0, 0] if isinstance(val, sp.MatrixBase) else val


@lru_cache(maxsize=None)
def tie_section() -> Section:
    """TIE for every signed permutation of the latents (k = 2, all symbolic), then the optimum values."""
    sec = Section("tie", "TIE at the optimum and the gauge",
                  "The beta-VAE optimum is defined up to a signed permutation of z. With A = P diag(sigma) Q^T "
                  "(thin SVD; P spans the top eigenvectors of Sigma_x) and an encoder aligned with P, eq. (25) with (27) "
                  "is checked against a structured formula for all 8 signed permutations at k = 2, with Q a "
                  "rational rotation, singular values and the encoder's w, s symbolic; the optimum values of w, s then give the closed "
                  "form. Only sum_j signs_j w_j Q[perm_j, j] depends on the relabelling: the best signs match Q's, "
                  "and the best permutation solves a linear assignment problem.")
    kk = 2
    # Q: a fixed rational rotation (3-4-5); sigma, w, s stay symbolic. Random Q are covered numerically.
    Q = sp.Matrix([[sp.Rational(3, 5), -sp.Rational(4, 5)], [sp.Rational(4, 5), sp.Rational(3, 5)]])
    sig = sp.symbols("sigma1:3", positive=True)
    ws = sp.symbols("w1:3", real=True)
    ss = sp.symbols("s1:3", positive=True)
    a_list = [s_ ** 2 for s_ in sig]
    A = sp.diag(*sig) * Q.T            # N = k = 2 in the left singular basis (P = I_2)
    Einv = A.T * A + sp.eye(kk)
    Fm = Einv.adjugate() * A.T / sp.factor(Einv.det())
    Sx = A * A.T + sp.eye(kk)
    for perm, signs, tag in signed_permutations(kk):
        val = tie_at_relabelling(Einv, Fm, Sx, perm, signs, ws, ss)
        sec.add(prove(f"tie.structure.{tag}", f"TIE (eq. 25, 27) with latents relabelled by perm {perm}, signs {signs} = structured form",
                      val, tie_structured(a_list, Q, perm, signs, ss, ws), concrete_method(kk, kk) + ", Q = 3-4-5 rotation",
                      equation="25", simplifier=_tie_simplify))
    # optimum values, per unit: s = beta/(d^2 + beta), w = d/(d^2 + beta), d^2 = max(lambda - beta, 0), lambda = 1 + a
    a1 = sp.Symbol("a", positive=True)
    u = sp.Symbol("u", positive=True)
    for regime, bet in (("active", 1 + a1 - u ** 2 / (1 + u ** 2) * (1 + a1)), ("collapsed", (1 + a1) * (1 + u))):
        d2 = mode_d2(1 + a1, bet)
        s_opt, w_opt = bet / (d2 + bet), sp.sqrt(d2) / (d2 + bet)
        sec.add(prove(f"tie.optimum.{regime}.variance", f"at the optimum ({regime}): s + (1 + a) w^2 = 1",
                      s_opt + (1 + a1) * w_opt ** 2, 1, "scalar, per unit", simplifier=sp.simplify))
        sec.add(prove(f"tie.optimum.{regime}.overlap", f"at the optimum ({regime}): (1 + a) sqrt(a) w = sqrt(a (1 + a - beta)^+)",
                      (1 + a1) * sp.sqrt(a1) * w_opt, mode_tie_weight(a1, bet), "scalar, per unit", simplifier=sp.simplify))
        sec.add(prove(f"tie.optimum.{regime}.logvar", f"at the optimum ({regime}): -log s = 2 KL_unit",
                      -sp.log(s_opt), 2 * mode_kl(1 + a1, bet), "scalar, per unit",
                      simplifier=lambda e: sp.simplify(sp.expand_log(sp.simplify(e), force=True))))
    return sec


def _log_factor_simplify(e):
    e = sp.simplify(e)
    e = e.replace(sp.log, lambda arg: sp.log(sp.factor(arg)))
    return sp.simplify(sp.expand_log(e, force=True))


def _tie_simplify(e):
    e = sp.expand(e)
    e = e.replace(sp.log, lambda arg: sp.log(sp.factor(arg)))
    e = sp.expand_log(e, force=True)
    return rational_simplify(e)
