"""True inference error (eq. 3) of a trained encoder, exact per example, gauge-aligned.

For each example x, the encoder gives q(z|x) = N(mu, diag(v)); the ground truth is
p(s|x) = N(F x, E) with E = (A^T A + I)^{-1}, F = E A^T (eq. 19). The Gaussian KL in closed form,
with Lambda = E^{-1} = A^T A + I and d = F x - mu:

    KL(q || p) = 1/2 [ sum_m Lambda_mm v_m + d^T Lambda d - k - log det Lambda - sum_m log v_m ],

and TIE is its average over the data. The prior N(0, I) and the diagonal family of q are invariant
under signed permutations of the latent units, so a trained network's latent j may stand for source
pi(j) with sign sigma_j: TIE is minimised over the 2^k k! relabellings. The relabelling is chosen by
:mod:`numerics.gauge` from the data averages of :func:`alignment_problem` (exact enumeration for
k <= ``EXACT_MAX_K``; above, a local search whose TIE is an upper bound of the aligned TIE, and the
result says so); the reported TIE is the per-example KL of the relabelled q.

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

from dataclasses import dataclass

import numpy as np

from numerics.gauge import EXACT_MAX_K, Alignment, AlignmentProblem, align, relabel_encodings

from .data import ground_truth_posterior


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
def alignment_problem(mu, var, x, A) -> AlignmentProblem:
    """The data averages the relabelling cost needs: Lambda = A^T A + I, vbar = E[v], M = E[mu mu^T],
    C = E[A^T x mu^T] (Lambda F = A^T), averaged over the n examples."""
    mu, var, x, A = (np.asarray(a, dtype=float) for a in (mu, var, x, A))
    n = len(mu)
    return AlignmentProblem(precision=A.T @ A + np.eye(A.shape[1]), mean_variance=var.mean(axis=0),
                            second_moment=mu.T @ mu / n, cross_moment=(x @ A).T @ mu / n)


# ------------------------------------------------------------------------------------------ TIE
@dataclass(frozen=True)
class TIEResult:
    """Gauge-aligned TIE (data average), its per-example values, TIE without relabelling, the relabelling."""

    tie: float
    per_example: np.ndarray
    tie_identity: float
    alignment: Alignment
    problem: AlignmentProblem | None = None


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
    problem = alignment_problem(mu, var, x, A)
    alignment = align(problem, exact_max_k)
    mu2, var2 = relabel_encodings(mu, var, alignment)
    per_example = kl_diagonal_to_full(mu2, var2, mean_p, post.E_inv)
    identity = kl_diagonal_to_full(mu, var, mean_p, post.E_inv)
    return TIEResult(tie=float(per_example.mean()), per_example=per_example, tie_identity=float(identity.mean()),
                     alignment=alignment, problem=problem)


def realigned_tie(tie_identity: float, problem: AlignmentProblem, exact_max_k: int = EXACT_MAX_K):
    """(aligned TIE, alignment) from the unaligned TIE and the data averages alone (no encoder outputs needed).

    The data-averaged KL of the relabelled q differs from the unaligned one by half the difference of the
    relabelling costs (:mod:`numerics.gauge`): TIE(G) = TIE(identity) + (cost(G) - cost(identity)) / 2. So a stored
    run can be re-aligned, e.g. exactly once a better alignment method exists, without its network.
    """
    from numerics.gauge import relabelling_cost
    k = problem.k
    alignment = align(problem, exact_max_k)
    identity = float(relabelling_cost(problem, np.arange(k)[None, :], np.ones((1, k)))[0])
    return float(tie_identity + 0.5 * (alignment.cost - identity)), alignment
