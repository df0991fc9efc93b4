"""True inference error (eq. 3) of a trained encoder, exact per example, gauge-aligned.

For each example x, the encoder gives q(z|x) = N(mu, diag(v)); the ground truth is
p(s|x) = N(F x, E) with E = (A^T A + I)^{-1}, F = E A^T (eq. 19). The Gaussian KL in closed form,
with Lambda = E^{-1} = A^T A + I and d = F x - mu:

    KL(q || p) = 1/2 [ sum_m Lambda_mm v_m + d^T Lambda d - k - log det Lambda - sum_m log v_m ],

and TIE is its average over the data. The prior N(0, I) and the diagonal family of q are invariant
under signed permutations of the latent units, so a trained network's latent j may stand for source
pi(j) with sign sigma_j: TIE is minimised over the 2^k k! relabellings. Averaged over the data, the
relabelling cost is (up to terms every relabelling shares)

    cost(pi, sigma) = sum_j Lambda_{pi(j)pi(j)} vbar_j - 2 sum_j sigma_j C_{pi(j) j}
                      + sum_{j,l} Lambda_{pi(j)pi(l)} sigma_j sigma_l M_jl,

vbar = E[v], M = E[mu mu^T], C = E[A^T x mu^T] (Lambda F = A^T). M is not diagonal for a trained
network, so this is a quadratic assignment problem: for k <= ``EXACT_MAX_K`` every signed permutation
is enumerated (vectorised); above, a heuristic (linear assignment on the diagonal part, identity and
random starts, then best-improvement local search over sign flips and pair swaps with all sign
choices, exact cost) gives a relabelling whose TIE is an upper bound of the aligned TIE, and the
result says so.

>>> import numpy as np
>>> A = np.array([[2.73, 0.73], [0.73, 2.73]])
>>> post = ground_truth_posterior(A)
>>> x = np.random.default_rng(0).standard_normal((500, 2)) @ np.linalg.cholesky(A @ A.T + np.eye(2)).T
>>> exact = true_inference_error(x @ post.F.T, np.tile(np.diag(post.E), (500, 1)), x, A)
>>> exact.alignment.permutation, exact.alignment.signs, exact.alignment.method
((0, 1), (1, 1), 'exact')
>>> swapped = true_inference_error(-(x @ post.F.T)[:, ::-1], np.tile(np.diag(post.E)[::-1], (500, 1)), x, A)
>>> swapped.alignment.permutation, swapped.alignment.signs, bool(np.isclose(swapped.tie, exact.tie))
((1, 0), (-1, -1), True)
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from .data import ground_truth_posterior

EXACT_MAX_K = 7          # 2^7 7! = 645,120 signed permutations: ~0.1 s per network
HEURISTIC_RESTARTS = 8


# --------------------------------------------------------------------------------- the Gaussian KL
def kl_diagonal_to_full(mu: np.ndarray, var: np.ndarray, mean_p: np.ndarray, precision_p: np.ndarray) -> np.ndarray:
    """KL(N(mu, diag(var)) || N(mean_p, precision_p^{-1})) for each row (closed form, every constant)."""
    mu, var, mean_p = (np.asarray(a, dtype=float) for a in (mu, var, mean_p))
    k = mu.shape[-1]
    sign, logdet_precision = np.linalg.slogdet(precision_p)
    if sign <= 0:
        raise ValueError("the posterior precision is not positive definite")
    d = mean_p - mu
    quad = np.einsum("ni,ij,nj->n", d, precision_p, d)
    trace = var @ np.diag(precision_p)
    return 0.5 * (trace + quad - k - logdet_precision - np.log(var).sum(axis=-1))


# ------------------------------------------------------------------------------ alignment problem
@dataclass(frozen=True)
class AlignmentStats:
    """Data averages the relabelling cost needs: Lambda (k x k), vbar (k), M = E[mu mu^T], C = E[A^T x mu^T]."""

    Lambda: np.ndarray
    vbar: np.ndarray
    M: np.ndarray
    C: np.ndarray

    @property
    def k(self) -> int:
        return len(self.vbar)


def alignment_stats(mu, var, x, A) -> AlignmentStats:
    mu, var, x, A = (np.asarray(a, dtype=float) for a in (mu, var, x, A))
    n = len(mu)
    return AlignmentStats(Lambda=A.T @ A + np.eye(A.shape[1]), vbar=var.mean(axis=0), M=mu.T @ mu / n,
                          C=(x @ A).T @ mu / n)


def relabelling_cost(stats: AlignmentStats, perms: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """cost(pi, sigma) for each row of ``perms`` (P, k) with the matching row of ``signs`` (P, k)."""
    perms = np.asarray(perms)
    signs = np.asarray(signs, dtype=float)
    j = np.arange(stats.k)
    L = stats.Lambda
    linear = (L[perms, perms] * stats.vbar).sum(-1) - 2.0 * (signs * stats.C[perms, j]).sum(-1)
    G = L[perms[:, :, None], perms[:, None, :]] * stats.M
    return linear + np.einsum("pj,pjl,pl->p", signs, G, signs)


def all_signs(k: int) -> np.ndarray:
    """The 2^k sign vectors, +1 first."""
    return 1.0 - 2.0 * np.array(list(itertools.product((0, 1), repeat=k)), dtype=float)


@dataclass(frozen=True)
class Alignment:
    """A relabelling: latent j stands for source ``permutation[j]`` with sign ``signs[j]``.

    ``method`` is 'exact' (all 2^k k! enumerated: the minimum) or 'heuristic' (an upper bound:
    ``how`` says how it was found). ``evaluated``: how many relabellings were costed.
    """

    permutation: tuple[int, ...]
    signs: tuple[int, ...]
    cost: float
    method: str
    evaluated: int
    how: str

    @property
    def is_exact(self) -> bool:
        return self.method == "exact"

    def record(self) -> dict:
        return {"permutation": list(self.permutation), "signs": list(self.signs), "method": self.method,
                "exact": self.is_exact, "evaluated": self.evaluated, "how": self.how}


def exact_alignment(stats: AlignmentStats, chunk: int = 2048) -> Alignment:
    """Minimum of the relabelling cost over all 2^k k! signed permutations (vectorised, in chunks)."""
    k = stats.k
    S = all_signs(k)
    L, j = stats.Lambda, np.arange(k)
    best = (math.inf, None, None)
    perms_all = np.array(list(itertools.permutations(range(k))), dtype=int)
    for start in range(0, len(perms_all), chunk):
        P = perms_all[start:start + chunk]
        linear = (L[P, P] * stats.vbar).sum(-1)[:, None] - 2.0 * np.einsum("sj,pj->ps", S, stats.C[P, j])
        G = L[P[:, :, None], P[:, None, :]] * stats.M                                       # (p, k, k)
        quad = np.einsum("sj,psj->ps", S, np.einsum("pjl,sl->psj", G, S))
        cost = linear + quad
        flat = int(np.argmin(cost))
        if cost.flat[flat] < best[0]:
            p, s = divmod(flat, len(S))
            best = (float(cost.flat[flat]), P[p], S[s])
    return Alignment(tuple(int(v) for v in best[1]), tuple(int(v) for v in best[2]), best[0], "exact",
                     len(perms_all) * len(S), f"all 2^{k} {k}! signed permutations enumerated")


def _best_signs(stats: AlignmentStats, perm: np.ndarray) -> np.ndarray:
    return np.where(stats.C[perm, np.arange(stats.k)] >= 0, 1.0, -1.0)


def _neighbours(perm: np.ndarray, signs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every sign flip, and every swap of two latents' sources with the four sign choices for the pair."""
    k = len(perm)
    P, S = [], []
    for j in range(k):
        s = signs.copy()
        s[j] = -s[j]
        P.append(perm)
        S.append(s)
    for j, l in itertools.combinations(range(k), 2):
        p = perm.copy()
        p[j], p[l] = perm[l], perm[j]
        for sj, sl in itertools.product((1.0, -1.0), repeat=2):
            s = signs.copy()
            s[j], s[l] = sj, sl
            P.append(p)
            S.append(s)
    return np.array(P), np.array(S)


def heuristic_alignment(stats: AlignmentStats, restarts: int = HEURISTIC_RESTARTS, seed: int = 0) -> Alignment:
    """Local search from several starts; the best relabelling found (an upper bound on the minimum).

    Starts: linear assignment on the diagonal part of the cost (each latent alone:
    Lambda_mm (vbar_j + M_jj) - 2 |C_mj|, sign of C_mj), the identity, and ``restarts`` random
    permutations (numpy stream ``seed``), each with per-unit best signs. Moves: best improvement
    among all sign flips and all pair swaps with the four sign choices of the pair; stops at a
    local minimum.
    """
    k = stats.k
    j = np.arange(k)
    diag_cost = np.diag(stats.Lambda)[None, :] * (stats.vbar + np.diag(stats.M))[:, None] - 2.0 * np.abs(stats.C.T)
    _, cols = linear_sum_assignment(diag_cost)           # rows are latents j, cols sources m
    rng = np.random.default_rng(seed)
    starts = [cols, j.copy()] + [rng.permutation(k) for _ in range(restarts)]
    evaluated = 0
    best = (math.inf, None, None)
    for perm in starts:
        signs = _best_signs(stats, perm)
        cost = float(relabelling_cost(stats, perm[None], signs[None])[0])
        evaluated += 1
        while True:
            P, S = _neighbours(perm, signs)
            costs = relabelling_cost(stats, P, S)
            evaluated += len(P)
            i = int(np.argmin(costs))
            if not costs[i] < cost - 1e-12 * max(1.0, abs(cost)):
                break
            perm, signs, cost = P[i], S[i], float(costs[i])
        if cost < best[0]:
            best = (cost, perm, signs)
    how = (f"upper bound: local search (sign flips, pair swaps with sign choices) from linear assignment on the "
           f"diagonal part, the identity and {restarts} random starts")
    return Alignment(tuple(int(v) for v in best[1]), tuple(int(v) for v in best[2]), best[0], "heuristic",
                     evaluated, how)


def align(stats: AlignmentStats, exact_max_k: int = EXACT_MAX_K) -> Alignment:
    """Exact enumeration for k <= ``exact_max_k``, the heuristic above."""
    return exact_alignment(stats) if stats.k <= exact_max_k else heuristic_alignment(stats)


def relabel(mu: np.ndarray, var: np.ndarray, alignment: Alignment) -> tuple[np.ndarray, np.ndarray]:
    """q's mean and variance expressed in source order: mu'[pi(j)] = sigma_j mu_j, v'[pi(j)] = v_j."""
    perm = np.asarray(alignment.permutation)
    mu2, var2 = np.empty_like(mu), np.empty_like(var)
    mu2[:, perm] = mu * np.asarray(alignment.signs, dtype=float)
    var2[:, perm] = var
    return mu2, var2


# ------------------------------------------------------------------------------------------ TIE
@dataclass(frozen=True)
class TIEResult:
    """Gauge-aligned TIE (data average), its per-example values, TIE without relabelling, the relabelling."""

    tie: float
    per_example: np.ndarray
    tie_identity: float
    alignment: Alignment


def true_inference_error(mu, var, x, A, exact_max_k: int = EXACT_MAX_K) -> TIEResult:
    """TIE of an encoder with means ``mu`` and variances ``var`` (n x k) on observations ``x`` (n x N).

    The reported value is the average of the per-example closed-form KL of the relabelled q, not
    the relabelling cost, so it does not depend on the algebra used to choose the relabelling.
    """
    mu, var, x, A = (np.asarray(a, dtype=float) for a in (mu, var, x, A))
    if mu.shape != var.shape or mu.shape[1] != A.shape[1] or x.shape != (len(mu), A.shape[0]):
        raise ValueError(f"shapes do not fit: mu {mu.shape}, var {var.shape}, x {x.shape}, A {A.shape}")
    post = ground_truth_posterior(A)
    mean_p = x @ post.F.T                                               # eq. (19)
    alignment = align(alignment_stats(mu, var, x, A), exact_max_k)
    mu2, var2 = relabel(mu, var, alignment)
    per_example = kl_diagonal_to_full(mu2, var2, mean_p, post.E_inv)
    identity = kl_diagonal_to_full(mu, var, mean_p, post.E_inv)
    return TIEResult(tie=float(per_example.mean()), per_example=per_example, tie_identity=float(identity.mean()),
                     alignment=alignment)
