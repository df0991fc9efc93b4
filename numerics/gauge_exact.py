"""Exact gauge alignment beyond enumeration: branch and bound over the 2^k k! signed permutations.

Written with the signed permutation matrix G (G[pi(j), j] = sigma_j, so G_mj^2 = |G_mj|), the relabelling cost of
:mod:`numerics.gauge` is a quadratic in G:

    cost(G) = sum_{m,j} Lambda_mm vbar_j G_mj^2 - 2 sum_{m,j} C_mj G_mj + tr(Lambda G M G^T).

The search fixes latents one at a time, in a fixed order (a node fixes pi(j) and sigma_j for a prefix of that
order), depth first, children best bound first, starting from the local search's relabelling as the incumbent.
A node's bound is the larger of two lower bounds on the cost of every completion of its prefix:

* :func:`relaxation_bound`: the free block of G replaced by any real matrix W. The cost stays a convex quadratic in
  W (Lambda (x) M is PSD and the ridge Lambda_mm vbar_j >= 0), so its minimum is one linear solve. Strong where the
  latents carry the sources (a trained network): a wrong prefix leaves a source's signal with no free latent.
* :func:`assignment_bound` (Gilmore-Lawler): the fixed part's exact cost, plus a linear assignment of the free
  latents to the free sources in which latent j -> source m costs its own terms and its terms with the fixed part
  (best sign), plus the least its terms with the other free latents can be: each is >= -|M_jl| |Lambda_mn|, and the
  sources n are distinct, so the sum is >= minus the sorted-magnitude dot product (rearrangement inequality).
  Exact where M is diagonal, e.g. for collapsed units, which the relaxation cannot see (it sets their column to 0).

Both are exact at a leaf. Pruning drops a node whose bound is within ``rtol`` (relative to the cost's scale) of the
incumbent, so "proved optimal" means: no relabelling is cheaper by more than that tolerance. A node or time limit
stops the search early; the result then carries the incumbent (an upper bound) and the smallest bound of the open
nodes (a lower bound), so the gap is known.

>>> import numpy as np
>>> from numerics.gauge import exact_alignment
>>> rng = np.random.default_rng(0)
>>> B, R = rng.standard_normal((8, 6)), rng.standard_normal((6, 6))
>>> problem = AlignmentProblem(precision=B.T @ B + np.eye(6), mean_variance=rng.uniform(0.1, 1.0, 6),
...                            second_moment=R @ R.T, cross_moment=rng.standard_normal((6, 6)))
>>> result = branch_and_bound(problem)
>>> result.proved_optimal, bool(np.isclose(result.cost, exact_alignment(problem).cost, rtol=1e-12))
(True, True)
>>> result.lower_bound <= result.cost
True
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.optimize import linear_sum_assignment

from .gauge import EXACT, HEURISTIC, Alignment, AlignmentProblem, heuristic_alignment

#: bound evaluations before the search stops with an upper bound and a lower bound (deterministic, unlike a clock)
NODE_LIMIT = 200_000
#: prune a node whose bound is within this fraction of the cost's scale of the incumbent (rounding, not a heuristic)
RTOL = 1e-9


@dataclass(frozen=True)
class BranchAndBoundResult:
    """The best relabelling found (latent j -> source ``permutation[j]``, sign ``signs[j]``) and what is proved.

    ``cost``: its relabelling cost (an upper bound of the minimum); ``lower_bound``: no relabelling costs less
    (``cost - tolerance`` when the search finished); ``proved_optimal``: the search finished, so ``cost`` is the
    minimum to within ``tolerance``. ``nodes``: bounds evaluated, ``expanded``: nodes branched on, ``seconds``:
    wall time, ``start_cost``: the local search's cost it started from, ``stopped``: why it stopped early (None
    when it finished).
    """

    permutation: tuple[int, ...]
    signs: tuple[int, ...]
    cost: float
    lower_bound: float
    proved_optimal: bool
    nodes: int
    expanded: int
    seconds: float
    start_cost: float
    tolerance: float
    stopped: str | None = None

    @property
    def gap(self) -> float:
        return self.cost - self.lower_bound

    def to_alignment(self) -> Alignment:
        """The :class:`numerics.gauge.Alignment` record: 'exact' when proved, else 'heuristic' with the lower bound
        (``how`` gives the work in bounds, not seconds, so that two runs write the same record)."""
        if self.proved_optimal:
            how = (f"branch and bound from the local search: {self.nodes} bounds, {self.expanded} nodes branched; "
                   f"optimal to within {self.tolerance:.1e}")
            return Alignment(self.permutation, self.signs, self.cost, EXACT, self.nodes, how)
        how = (f"upper bound: branch and bound from the local search stopped at its {self.stopped} ({self.nodes} "
               f"bounds); the minimum is >= {self.lower_bound:.10g} (gap {self.gap:.3g})")
        return Alignment(self.permutation, self.signs, self.cost, HEURISTIC, self.nodes, how,
                         lower_bound=self.lower_bound)


# ------------------------------------------------------------------------------------------ the bounds
def _prefix(problem: AlignmentProblem, latents, sources, signs):
    """Index arrays of a partial assignment, checked: latent latents[i] -> source sources[i] with sign signs[i]."""
    latents, sources = np.asarray(latents, dtype=int), np.asarray(sources, dtype=int)
    signs = np.asarray(signs, dtype=float)
    if not (len(latents) == len(sources) == len(signs)) or len(set(latents.tolist())) != len(latents) \
            or len(set(sources.tolist())) != len(sources) or not np.all(np.abs(signs) == 1):
        raise ValueError("a partial assignment needs distinct latents, distinct sources and signs +-1")
    k = problem.k
    free_latents = np.setdiff1d(np.arange(k), latents)
    free_sources = np.setdiff1d(np.arange(k), sources)
    return latents, sources, signs, free_latents, free_sources


def fixed_cost(problem: AlignmentProblem, latents, sources, signs) -> float:
    """The cost's terms that involve only the fixed latents (the whole cost when every latent is fixed)."""
    latents, sources, signs, _, _ = _prefix(problem, latents, sources, signs)
    L, M = problem.precision, problem.second_moment
    linear = np.sum(L[sources, sources] * problem.mean_variance[latents] - 2.0 * signs * problem.cross_moment[sources,
                                                                                                            latents])
    quad = signs @ (L[np.ix_(sources, sources)] * M[np.ix_(latents, latents)]) @ signs
    return float(linear + quad)


def _fixed_gradient(problem: AlignmentProblem, latents, sources, signs) -> np.ndarray:
    """(Lambda G_P M - C): half the cost's gradient in G at the partial assignment G_P (free entries 0)."""
    k = problem.k
    GP = np.zeros((k, k))
    GP[sources, latents] = signs
    return problem.precision @ GP @ problem.second_moment - problem.cross_moment


def _convex_minimum(Q: np.ndarray, g: np.ndarray) -> float:
    """min over x of x^T Q x + 2 g^T x for a PSD Q: -g^T Q^+ g, or -inf where g leaves Q's range."""
    # a zero diagonal entry of a PSD matrix zeroes its row: such a variable (a unit whose mean is exactly 0, with
    # no ridge left) is unbounded below if g moves it, free otherwise; dropping it keeps the fast Cholesky route
    zero = np.diag(Q) <= 0.0
    if zero.any():
        if np.any(g[zero] != 0.0):
            return -math.inf
        Q, g = Q[np.ix_(~zero, ~zero)], g[~zero]
    try:
        return -float(g @ cho_solve(cho_factor(Q), g))
    except LinAlgError:                                  # singular (zero variances and a rank-deficient M)
        w, V = np.linalg.eigh(Q)
        keep = w > 1e-12 * max(float(w[-1]), 1e-300)
        h = V.T @ g
        if np.linalg.norm(h[~keep]) > 1e-10 * max(1.0, float(np.linalg.norm(g))):
            return -math.inf
        return -float(np.sum(h[keep] ** 2 / w[keep]))


def _ridge_split(lam: np.ndarray, v: np.ndarray) -> tuple[float, np.ndarray]:
    """(sum a + sum b, e) with lam_m v_j = a_m + b_j + e_mj, e >= 0 and sum a + sum b the linear assignment minimum of
    lam_m v_j: its dual, built for the product cost (pairs by opposite order, steps b_{i+1} - b_i = lam_i dv_i), then
    a_m = min_j (lam_m v_j - b_j) so that e >= 0 whatever rounding did."""
    c = np.outer(lam, v)
    rows, cols = np.argsort(lam, kind="stable"), np.argsort(-v, kind="stable")
    b = np.empty(len(v))
    b[cols] = np.concatenate([[0.0], np.cumsum(lam[rows[:-1]] * np.diff(v[cols]))])
    a = np.min(c - b[None, :], axis=1)
    return float(a.sum() + b.sum()), np.maximum(c - a[:, None] - b[None, :], 0.0)


#: the fractions of lambda_min(M_FF) tried as the diagonal part of M moved into the ridge (the best one is kept)
DIAGONAL_FRACTIONS = (0.0, 0.5)


def relaxation_bound(problem: AlignmentProblem, latents=(), sources=(), signs=()) -> float:
    """Lower bound of the cost of every completion of the partial assignment: the free block of G relaxed to any
    real matrix X (rows: free sources R, columns: free latents F). With g = (Lambda G_P M - C) on that block,

        cost(G_P + X) = fixed + sum Lambda_mm vbar_j X_mj^2 + 2 sum g_mj X_mj + tr(Lambda_RR X M_FF X^T).

    Two exact rewritings on completions (every free row and column of X holds one +-1) make the relaxation tighter:
    M_FF = M' + delta I with M' PSD turns delta tr(Lambda_RR X X^T) into the ridge sum delta Lambda_mm X_mj^2; and the
    ridge Lambda_mm (vbar_j + delta) = a_m + b_j + e_mj (e >= 0) into sum a + sum b + sum e_mj X_mj^2, with a, b the
    dual of the linear assignment of the ridge (:func:`_ridge_split`), so the constant is as large as it can be. What
    is left is a convex quadratic (row-major vec: Q = Lambda_RR (x) M' + diag(e)) minimised in closed form. Each
    delta in ``DIAGONAL_FRACTIONS`` x lambda_min(M_FF) gives a valid bound; the largest is returned.
    """
    latents, sources, signs, F, R = _prefix(problem, latents, sources, signs)
    base = fixed_cost(problem, latents, sources, signs)
    if len(F) == 0:
        return base
    L, M = problem.precision, problem.second_moment
    g = _fixed_gradient(problem, latents, sources, signs)[np.ix_(R, F)].ravel()
    LR, MF = L[np.ix_(R, R)], M[np.ix_(F, F)]
    smallest = max(0.0, float(np.linalg.eigvalsh(MF)[0]))
    best = -math.inf
    for fraction in DIAGONAL_FRACTIONS:
        delta = fraction * smallest
        constant, e = _ridge_split(np.diag(L)[R], problem.mean_variance[F] + delta)
        Q = np.kron(LR, MF - delta * np.eye(len(F)))
        Q[np.diag_indices_from(Q)] += e.ravel()
        best = max(best, constant + _convex_minimum(Q, g))
    return base + best


def assignment_bound(problem: AlignmentProblem, latents=(), sources=(), signs=()) -> float:
    """Gilmore-Lawler lower bound of the cost of every completion of the partial assignment (module docstring):
    fixed part + linear assignment of free latents j to free sources m at

        Lambda_mm (vbar_j + M_jj) - 2 |C_mj - (Lambda G_P M)_mj| - max_{n distinct} sum_{l free, l != j} |M_jl| |Lambda_mn|.
    """
    latents, sources, signs, F, R = _prefix(problem, latents, sources, signs)
    base = fixed_cost(problem, latents, sources, signs)
    if len(F) == 0:
        return base
    L, M = problem.precision, problem.second_moment
    g = _fixed_gradient(problem, latents, sources, signs)[np.ix_(R, F)]           # (r sources, r latents)
    own = np.outer(np.diag(L)[R], problem.mean_variance[F] + np.diag(M)[F]) - 2.0 * np.abs(g)
    # the free-free terms of latent j at source m: the largest |M_jl| meet the largest |Lambda_mn| (l != j, n != m)
    absM = np.abs(M[np.ix_(F, F)])
    absL = np.abs(L[np.ix_(R, R)])
    np.fill_diagonal(absM, 0.0)                            # a zero sorts last and pairs with the diagonal's place
    np.fill_diagonal(absL, 0.0)
    sortedM = -np.sort(-absM, axis=1)[:, :-1]              # (r, r-1) descending, the zero dropped
    sortedL = -np.sort(-absL, axis=1)[:, :-1]
    pair = sortedL @ sortedM.T                              # (m, j)
    cost = own - pair                                       # (m, j)
    rows, cols = linear_sum_assignment(cost)
    return base + float(cost[rows, cols].sum())


def node_bound(problem: AlignmentProblem, latents=(), sources=(), signs=()) -> float:
    """The search's bound: the larger of :func:`relaxation_bound` and :func:`assignment_bound`."""
    return max(relaxation_bound(problem, latents, sources, signs), assignment_bound(problem, latents, sources, signs))


# ------------------------------------------------------------------------------------------ the search
def branching_order(problem: AlignmentProblem) -> np.ndarray:
    """Latents most tied to one source first (largest max_m |C_mj|): their wrong placements cost most, so the bound
    prunes them near the root."""
    return np.argsort(-np.abs(problem.cross_moment).max(axis=0), kind="stable")


def branch_and_bound(problem: AlignmentProblem, node_limit: int | None = NODE_LIMIT, time_limit: float | None = None,
                     rtol: float = RTOL) -> BranchAndBoundResult:
    """The minimum of the relabelling cost over all signed permutations (module docstring), or, when ``node_limit``
    bounds or ``time_limit`` seconds are spent first, the best relabelling found with a proved lower bound."""
    t0 = time.perf_counter()
    k = problem.k
    order = branching_order(problem)
    start = heuristic_alignment(problem)
    best_cost = start.cost
    best = (np.asarray(start.permutation), np.asarray(start.signs, dtype=float))
    # the largest magnitude any relabelling's terms can add up to: rounding in the bounds is relative to it
    L, M, C = problem.precision, problem.second_moment, problem.cross_moment
    scale = 1.0 + k * np.max(np.diag(L)) * np.max(np.abs(problem.mean_variance)) + 2.0 * np.abs(C).sum() \
        + np.abs(L).sum() * np.max(np.abs(M))
    tol = rtol * scale
    nodes, expanded, stopped = 1, 0, None
    stack = [(node_bound(problem), (), ())]         # (bound, sources of order[:d], signs of order[:d])
    while stack:
        bound, srcs, sgns = stack[-1]
        if bound >= best_cost - tol:
            stack.pop()
            continue
        if node_limit is not None and nodes >= node_limit:
            stopped = f"node limit {node_limit}"
            break
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            stopped = f"time limit {time_limit:g} s"
            break
        stack.pop()
        expanded += 1
        d = len(srcs)
        lat = order[:d + 1]
        children = []
        for m in sorted(set(range(k)) - set(srcs)):
            for s in (1, -1):
                child = (srcs + (m,), sgns + (s,))
                nodes += 1
                if d + 1 == k:
                    value = fixed_cost(problem, lat, *child)
                    if value < best_cost:
                        best_cost = value
                        best = (np.empty(k, dtype=int), np.empty(k))
                        best[0][lat], best[1][lat] = child
                    continue
                b = node_bound(problem, lat, *child)
                if b < best_cost - tol:
                    children.append((b, child))
        children.sort(key=lambda c: -c[0])           # the stack pops the best bound first
        stack.extend((b, *child) for b, child in children)
    open_bounds = [b for b, _, _ in stack if b < best_cost - tol]
    lower = min(open_bounds + [best_cost - tol])
    return BranchAndBoundResult(tuple(int(v) for v in best[0]), tuple(int(v) for v in best[1]), float(best_cost),
                                float(lower), stopped is None, nodes, expanded, time.perf_counter() - t0,
                                float(start.cost), float(tol), stopped)
