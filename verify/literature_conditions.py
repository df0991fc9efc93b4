"""The conditions under which three results of the literature hold, computed for the checks of
:mod:`verify.checks_literature` and :mod:`verify.checks_literature_units`:

* where the ELBO and log-likelihood peak, and where the decoder reproduces the data's mixing (sp2 D D^T = A A^T),
  when the data's noise variance sigma_eta^2 differs from the decoder's sigma_d^2;
* what a rotated probabilistic-PCA solution D* R costs a VAE whose encoder is factorised: the best such encoder at a
  fixed decoder loses the mean-field gap (1/2)[sum_i log P_ii - log det P], P = sp2 D^T D / sd2 + I (Hadamard:
  zero iff D^T D is diagonal);
* optima other than the closed form's member (a rotation inside a repeated eigenvalue), whose TIE the dense route
  measures (:func:`verify.dense_gaussian.tie`, aligned over the signed permutations).

Every value comes from the dense N x N route (:mod:`verify.dense_gaussian`) at parameters built here; the closed form
(:mod:`numerics.optimum`) supplies only the optimum that is then rotated or evaluated.

>>> import numpy as np
>>> round(mean_field_gap(np.array([[1.0, 1.0], [0.0, 1.0]])), 6)   # P = [[2, 1], [1, 3]]: (1/2) log(6/5)
0.091161
>>> rotation(np.pi / 2, 2).round(12).tolist()                             # a signed permutation: no penalty
[[0.0, -1.0], [1.0, 0.0]]
>>> from numerics.variances import Variances
>>> unit_beta(Variances(noise=2.0)), matched_beta(Variances(noise=2.0, decoder=0.5))
(1.0, 4.0)
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, minimize

from numerics.data_spectrum import DataSpectrum
from numerics.optimum import optimum_parameters
from numerics.variances import Variances

from . import dense_gaussian as G
from .properties import PropertyResult

ENCODER_SEED = 0
#: betas of the peak search: a geometric grid and the points the findings are about (added where they are missing)
PEAK_GRID = tuple(np.geomspace(0.05, 50.0, 40)) + (0.9, 1.0, 1.1)


def unit_beta(v: Variances) -> float:
    """The claimed place of the ELBO and log-likelihood peak: beta = 1 (Prop. 3), whatever the variances."""
    return 1.0


def matched_beta(v: Variances) -> float:
    """The beta at which the decoder's noise variance beta sigma_d^2 is the data's sigma_eta^2."""
    return v.noise / v.decoder


def mean_field_gap(M, s2=1.0) -> float:
    """(1/2) log(prod P_ii / det P), P = M^T M / s2 + I: the least E KL(q || posterior) of a diagonal Gaussian q when
    the posterior precision is proportional to P (> 0 iff M^T M is not diagonal, Hadamard's inequality). For the
    true posterior M = A, s2 = sigma_eta^2; for the model's M = sigma_p D, s2 = sigma_d^2."""
    P = M.T @ M / s2 + np.eye(M.shape[1])
    return float(0.5 * (np.sum(np.log(np.diag(P))) - np.linalg.slogdet(P)[1]))


def rotation(angle, k) -> np.ndarray:
    """k x k rotation by ``angle`` in the plane of latents 0 and 1."""
    R = np.eye(k)
    c, s = np.cos(angle), np.sin(angle)
    R[:2, :2] = [[c, -s], [s, c]]
    return R


# ------------------------------------------------------------------------------ noise model: the peak and the match
def likelihood_peak(A, v: Variances, grid=PEAK_GRID, peak_at=unit_beta) -> PropertyResult:
    """The betas of the grid (plus ``peak_at(v)`` and sigma_eta^2 / sigma_d^2) where the dense ELBO and log p(x) of the
    decoder under evaluation (variance sd2), at the optimum, are largest; holds when both are ``peak_at(v)``."""
    data = DataSpectrum.from_mixing(A, v.noise)
    Sx = A @ A.T + v.noise * np.eye(A.shape[0])
    betas = np.unique(np.concatenate([grid, [peak_at(v), matched_beta(v)]]))
    vals = np.array([[G.elbo(p, Sx, v.decoder, v.prior), G.log_likelihood(p, Sx, v.decoder, v.prior)]
                     for p in (G.as_theta(optimum_parameters(data, b, v)) for b in betas)])
    arg = [float(betas[i]) for i in np.argmax(vals, axis=0)]
    near = {float(b): vals[i].tolist() for i, b in enumerate(betas) if b in (0.9, 1.0, 1.1)}
    return PropertyResult(arg[0] == arg[1] == peak_at(v),
                          {"A shape": list(A.shape), "variances": v.to_json(), "ELBO argmax": arg[0],
                           "log p argmax": arg[1], "(ELBO, log p) at 0.9, 1, 1.1": near})


def mixing_reproduced(A, v: Variances, matched=matched_beta) -> PropertyResult:
    """The beta where the optimal decoder carries the data's mixing: the root of Tr(sp2 D D^T) = Tr(A A^T) (decreasing
    in beta), found by bisection; holds when it is ``matched(v)`` and sp2 D D^T = A A^T there entry by entry. Also the
    log-likelihood of the equivalent plain VAE (decoder variance beta sd2), which is largest at the true noise."""
    data = DataSpectrum.from_mixing(A, v.noise)
    AA = A @ A.T

    def carried(b):
        D = optimum_parameters(data, b, v).D
        return v.prior * D @ D.T

    top = float(data.lam[0]) / v.decoder
    root = float(brentq(lambda b: np.trace(carried(b)) - np.trace(AA), 1e-9 * top, top, xtol=1e-14, rtol=1e-14))
    scale = max(1.0, float(np.abs(AA).max()))
    err = {b: float(np.abs(carried(b) - AA).max()) / scale for b in (1.0, matched(v))}
    Sx = AA + v.noise * np.eye(A.shape[0])
    equiv = {f: G.log_likelihood(G.as_theta(optimum_parameters(data, f * root, v)), Sx, f * root * v.decoder,
                                 v.prior) for f in (0.75, 1.0, 1.25)}
    holds = (abs(root - matched(v)) <= 1e-9 * max(1.0, root) and err[matched(v)] <= 1e-12
             and equiv[1.0] > max(equiv[0.75], equiv[1.25]))
    return PropertyResult(holds, {"A shape": list(A.shape), "variances": v.to_json(), "root": root,
                                  "claimed": matched(v), "max |sp2 DD^T - AA^T| / max|AA^T| at 1 and claimed":
                                  [err[1.0], err[matched(v)]],
                                  "equivalent-model log p at 0.75, 1, 1.25 x root": list(equiv.values())})


# ------------------------------------------------------------------------------ PPCA: a rotated ML solution
def factorised_encoder(D, v: Variances) -> G.Dense:
    """The best encoder N(W x, diag v) at the fixed decoder D, per unit in closed form: the posterior mean
    W = Lambda^-1 D^T / sd2 (Lambda = D^T D / sd2 + I / sp2, the posterior precision) and v_i = 1 / Lambda_ii."""
    N, k = D.shape
    Lam = D.T @ D / v.decoder + np.eye(k) / v.prior
    return G.Dense(W=np.linalg.solve(Lam, D.T) / v.decoder, b_mu=np.zeros(k), log_v=-np.log(np.diag(Lam)), D=D,
                   b_D=np.zeros(N))


def encoder_lbfgs(D, S, v: Variances, seed=ENCODER_SEED) -> G.Dense:
    """The same by L-BFGS on the dense ELBO over (W, log v) with D fixed, from a random start: the route that does not
    assume the closed form."""
    N, k = D.shape
    zk, zn = np.zeros(k), np.zeros(N)

    def negative(x):
        p = G.Dense(W=x[:k * N].reshape(k, N), b_mu=zk, log_v=x[k * N:], D=D, b_D=zn)
        g = G.gradient(p, S, 1.0, v.decoder, v.prior)
        return -G.elbo(p, S, v.decoder, v.prior), -np.concatenate([g.W.ravel(), g.log_v])

    x0 = np.random.default_rng(seed).standard_normal(k * N + k) / np.sqrt(N)
    x = minimize(negative, x0, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10}).x
    return G.Dense(W=x[:k * N].reshape(k, N), b_mu=zk, log_v=x[k * N:], D=D, b_D=zn)


def rotated_ml_cost(S, k, v: Variances, angle, claimed_loss=mean_field_gap,
                    encoder_of=factorised_encoder) -> PropertyResult:
    """The beta = 1 optimum's decoder D* rotated by ``angle`` (latents 0, 1): its log-likelihood against D*'s (a
    T&B ML solution has the same), and the ELBO it loses with the best factorised encoder (``encoder_of``, checked
    against L-BFGS), against ``claimed_loss(sqrt(sp2) D*R, sd2)``. Holds when the routes agree."""
    data = DataSpectrum.from_covariance(np.array(S, dtype=float), k)
    o = G.as_theta(optimum_parameters(data, 1.0, v))
    D = o.D @ rotation(angle, k)
    q, q_opt = encoder_of(D, v), encoder_lbfgs(D, S, v)
    ll = (G.log_likelihood(o, S, v.decoder, v.prior), G.log_likelihood(q, S, v.decoder, v.prior))
    elbo = (G.elbo(o, S, v.decoder, v.prior), G.elbo(q, S, v.decoder, v.prior), G.elbo(q_opt, S, v.decoder, v.prior))
    loss, claimed = elbo[0] - elbo[1], claimed_loss(np.sqrt(v.prior) * D, v.decoder)
    tol = 1e-9 * (1 + abs(elbo[0]))
    DtD = D.T @ D
    holds = abs(ll[0] - ll[1]) <= tol and abs(loss - claimed) <= tol and abs(elbo[1] - elbo[2]) <= 1e-7 * (1 + abs(elbo[0]))
    return PropertyResult(holds, {"k": k, "variances": v.to_json(), "angle": float(angle), "log p (D*, D*R)": list(ll),
                                  "ELBO (optimum, best factorised encoder at D*R, L-BFGS)": list(elbo),
                                  "ELBO lost": loss, "claimed loss": claimed,
                                  "max |off-diagonal of D^T D|": float(np.abs(DtD - np.diag(np.diag(DtD))).max())})


def optimiser_dtd(seed) -> float:
    """L-BFGS on the dense objective at beta = 1 for the 5 x 5 covariance B B^T / 2 (B standard normal,
    default_rng(seed)), k = 2: the largest |off-diagonal| of D^T D relative to its largest diagonal entry."""
    B = np.random.default_rng(seed).standard_normal((5, 5))
    D = G.maximise(B @ B.T / 2, 2, 1.0, seed=seed).D
    DtD = D.T @ D
    return float(np.abs(DtD - np.diag(np.diag(DtD))).max() / np.abs(np.diag(DtD)).max())


def distance_to_mixing(D, A, angle) -> float:
    """min over the sign of ``angle`` of max |D R - A|, each column of D R compared with +/- the column of A (the
    eigenvectors' signs are arbitrary, and flipping one column turns R(angle) into R(-angle))."""
    def err(R):
        M = D @ R
        return max(min(np.abs(M[:, j] - A[:, j]).max(), np.abs(M[:, j] + A[:, j]).max()) for j in range(A.shape[1]))
    return float(min(err(rotation(angle, A.shape[1])), err(rotation(-angle, A.shape[1]))))


# ------------------------------------------------------------------------------ an optimum rotated
def rotated_optimum(A, beta, angle) -> G.Dense:
    """The closed-form optimum (unit variances) with its latents rotated by ``angle`` in the plane of latents 0, 1:
    z -> R^T z (W -> R^T W, D -> D R); an optimum as well when those latents share an eigenvalue."""
    o = G.as_theta(optimum_parameters(DataSpectrum.from_mixing(A), beta))
    R = rotation(angle, A.shape[1])
    return G.Dense(W=R.T @ o.W, b_mu=o.b_mu, log_v=o.log_v, D=o.D @ R, b_D=o.b_D)
