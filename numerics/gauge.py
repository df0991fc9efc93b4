"""The gauge: which source each latent stands for, and with which sign.

The prior N(0, I) and a diagonal q(z|x) are unchanged by z -> G z for every signed permutation G, and
the decoder D G^T undoes the map in the reconstruction, so the objective (6) cannot tell the latents,
or their signs, apart; TIE (3), which compares z with the sources s, can. An :class:`Alignment` says
that latent j stands for source ``permutation[j]`` with sign ``signs[j]``; the aligned TIE is TIE
minimised over the 2^k k! alignments.

For an encoder q(z|x) = N(mu(x), diag v(x)) and the ground-truth posterior N(F x, Lambda^{-1}) of
eq. (19), Lambda = A^T A + I, the data-averaged TIE of the relabelled encoder is, up to terms every
relabelling shares, half of

    cost(pi, sigma) = sum_j Lambda_{pi(j)pi(j)} vbar_j - 2 sum_j sigma_j C_{pi(j) j}
                      + sum_{j,l} Lambda_{pi(j)pi(l)} sigma_j sigma_l M_jl                   (eqs. 25, 27)

with vbar = E[v], M = E[mu mu^T], C = E[A^T x mu^T] (an :class:`AlignmentProblem`). M is not diagonal
for a trained network, so this is a quadratic assignment problem:

* :func:`exact_alignment` enumerates every signed permutation (in batches, vectorised) and keeps the
  first minimum in a fixed order (permutations lexicographic, then signs with + first);
* :func:`heuristic_alignment` runs a local search whose result is an upper bound, and says so;
* :func:`numerics.gauge_exact.branch_and_bound` proves the minimum beyond enumeration's reach (k = 10 in
  well under a second on trained-network-like problems), starting from the local search; when its node
  limit stops it first, its result is the local search's kind (an upper bound) and carries a proved
  lower bound;
* :func:`align` enumerates for k <= :data:`ENUMERATION_MAX_K`, runs the branch and bound up to
  :data:`EXACT_MAX_K` (the largest k aligned exactly) and the local search above;
* :func:`assignment_alignment` is the special case where the cost separates over the latents (M
  diagonal and vbar_j + M_jj the same for every j, as at the closed-form optimum): a linear assignment,
  exact.

:func:`signed_permutation_matrix`, :func:`relabel_parameters` and :func:`relabel_encodings` apply a
signed permutation to a parameter record and to encoder outputs.

>>> import numpy as np
>>> problem = AlignmentProblem(precision=np.array([[2.0, 0.5], [0.5, 3.0]]), mean_variance=np.array([0.3, 0.2]),
...                            second_moment=np.diag([0.6, 0.9]), cross_moment=np.array([[0.1, -1.9], [1.2, 0.0]]))
>>> best = align(problem)
>>> best.permutation, best.signs, best.is_exact      # latent 0 is source 1, latent 1 is source 0 flipped
((1, 0), (1, -1), True)
>>> relabel_encodings(np.array([[5.0, 7.0]]), np.array([[0.3, 0.2]]), best)[0]
array([[-7.,  5.]])
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import linear_sum_assignment

#: largest k whose 2^k k! signed permutations are enumerated: 645,120 at k = 7, ~0.1 s per network
ENUMERATION_MAX_K = 7
#: largest k aligned exactly (enumeration up to ENUMERATION_MAX_K, branch and bound above; Fig. 2 has k = 10)
EXACT_MAX_K = 10
#: bounds the branch and bound may evaluate per alignment (deterministic; ~10 s at k = 10 if all are spent)
NODE_LIMIT = 20_000
#: random starts of the local search beyond EXACT_MAX_K (besides the assignment start and the identity)
HEURISTIC_RESTARTS = 8
EXACT, HEURISTIC = "exact", "heuristic"


@dataclass(frozen=True)
class Alignment:
    """A signed permutation: latent j stands for source ``permutation[j]`` with sign ``signs[j]``.

    ``cost``: the relabelling cost it attains (smaller is better; :class:`AlignmentProblem`).
    ``method``: 'exact' (the minimum) or 'heuristic' (an upper bound of the minimum); ``how`` says how it
    was found, ``evaluated`` how many costs (or, for the branch and bound, bounds) were computed.
    ``lower_bound``: a proved lower bound of the minimum where the search proved one without reaching the
    minimum (a branch and bound stopped by its node limit), else None. ``tied_permutations`` lists the permutations
    that attain the same cost where the search determines them (empty otherwise), and ``unique`` says
    whether the labelling is unique (None where not determined).
    """

    permutation: tuple[int, ...]
    signs: tuple[int, ...]
    cost: float
    method: str
    evaluated: int
    how: str
    tied_permutations: tuple[tuple[int, ...], ...] = ()
    unique: bool | None = None
    lower_bound: float | None = None

    @property
    def is_exact(self) -> bool:
        return self.method == EXACT

    def to_sources(self) -> np.ndarray:
        """G with G[permutation[j], j] = signs[j]: G z lists the latents in source order."""
        return signed_permutation_matrix(self.permutation, self.signs).T

    def to_json(self) -> dict:
        """Every field, with ``exact`` spelled out (the one JSON form of an alignment, theory's and networks');
        ``lower_bound`` only where there is one."""
        out = {"permutation": list(self.permutation), "signs": list(self.signs), "cost": self.cost,
               "method": self.method, "exact": self.is_exact, "evaluated": self.evaluated, "how": self.how,
               "tied_permutations": [list(p) for p in self.tied_permutations], "unique": self.unique}
        if self.lower_bound is not None:
            out["lower_bound"] = self.lower_bound
        return out


# ------------------------------------------------------------------------------ the relabelling cost
@dataclass(frozen=True)
class AlignmentProblem:
    """What the relabelling cost needs (module docstring): ``precision`` Lambda (k x k, sources),
    ``mean_variance`` vbar (k, latents), ``second_moment`` M (k x k, latents), ``cross_moment`` C (k x k,
    sources x latents)."""

    precision: np.ndarray
    mean_variance: np.ndarray
    second_moment: np.ndarray
    cross_moment: np.ndarray

    @property
    def k(self) -> int:
        return len(self.mean_variance)


def relabelling_cost(problem: AlignmentProblem, perms: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """cost(pi, sigma) for each row of ``perms`` (P, k) with the matching row of ``signs`` (P, k)."""
    perms = np.asarray(perms)
    signs = np.asarray(signs, dtype=float)
    j = np.arange(problem.k)
    L = problem.precision
    linear = ((L[perms, perms] * problem.mean_variance).sum(-1)
              - 2.0 * (signs * problem.cross_moment[perms, j]).sum(-1))
    G = L[perms[:, :, None], perms[:, None, :]] * problem.second_moment
    return linear + np.einsum("pj,pjl,pl->p", signs, G, signs)


def all_permutations(k: int) -> np.ndarray:
    """The k! permutations of range(k) as rows, in lexicographic order."""
    return np.array(list(itertools.permutations(range(k))), dtype=int)


def all_signs(k: int) -> np.ndarray:
    """The 2^k sign vectors as rows, +1 first."""
    return np.array(list(itertools.product((1.0, -1.0), repeat=k)), dtype=float)


def signed_permutations(k: int):
    """Every (permutation, signs) pair, as tuples of ints, in the order the exact search visits them."""
    signs = [tuple(int(s) for s in row) for row in all_signs(k)]
    for perm in all_permutations(k):
        for s in signs:
            yield tuple(int(p) for p in perm), s


# ---------------------------------------------------------------------------------------- searches
def exact_alignment(problem: AlignmentProblem, chunk: int = 2048) -> Alignment:
    """The minimum of the relabelling cost over all 2^k k! signed permutations (vectorised, in batches).

    The first minimum in :func:`signed_permutations` order wins, so the result does not depend on ``chunk``.
    """
    k = problem.k
    S = all_signs(k)
    L, j = problem.precision, np.arange(k)
    vbar, M, C = problem.mean_variance, problem.second_moment, problem.cross_moment
    best = (math.inf, None, None)
    perms_all = all_permutations(k)
    for start in range(0, len(perms_all), chunk):
        P = perms_all[start:start + chunk]
        linear = (L[P, P] * vbar).sum(-1)[:, None] - 2.0 * np.einsum("sj,pj->ps", S, C[P, j])
        G = L[P[:, :, None], P[:, None, :]] * M                                       # (p, k, k)
        quad = np.einsum("sj,psj->ps", S, np.einsum("pjl,sl->psj", G, S))
        cost = linear + quad
        flat = int(np.argmin(cost))
        if cost.flat[flat] < best[0]:
            p, s = divmod(flat, len(S))
            best = (float(cost.flat[flat]), P[p], S[s])
    if best[1] is None:
        raise ValueError("the relabelling cost is not finite for any signed permutation")
    return Alignment(tuple(int(v) for v in best[1]), tuple(int(v) for v in best[2]), best[0], EXACT,
                     len(perms_all) * len(S), f"all 2^{k} {k}! signed permutations enumerated")


def assignment_alignment(cost: np.ndarray, orientation: np.ndarray) -> Alignment:
    """The separable case: ``cost[j, m]`` is latent j's share when it stands for source m, whatever the
    others do; the permutation minimises sum_j cost[j, permutation[j]] (linear assignment, exact) and
    ``signs[j]`` is +1 where ``orientation[j, permutation[j]] >= 0``, else -1."""
    cost = np.asarray(cost, dtype=float)
    k = cost.shape[0]
    _, cols = linear_sum_assignment(cost)                 # rows are the latents 0..k-1, in order
    j = np.arange(k)
    signs = np.where(np.asarray(orientation)[j, cols] >= 0, 1, -1)
    return Alignment(tuple(int(v) for v in cols), tuple(int(s) for s in signs), float(cost[j, cols].sum()),
                     EXACT, k * k, "linear assignment (the cost separates over the latents)")


def _best_signs(problem: AlignmentProblem, perm: np.ndarray) -> np.ndarray:
    return np.where(problem.cross_moment[perm, np.arange(problem.k)] >= 0, 1.0, -1.0)


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


def heuristic_alignment(problem: AlignmentProblem, restarts: int = HEURISTIC_RESTARTS, seed: int = 0) -> Alignment:
    """Local search from several starts; the best relabelling found (an upper bound on the minimum).

    Starts: linear assignment on the diagonal part of the cost (each latent alone:
    Lambda_mm (vbar_j + M_jj) - 2 |C_mj|, sign of C_mj), the identity, and ``restarts`` random
    permutations (numpy stream ``seed``), each with per-unit best signs. Moves: best improvement
    among all sign flips and all pair swaps with the four sign choices of the pair; stops at a
    local minimum.
    """
    k = problem.k
    j = np.arange(k)
    alone = problem.mean_variance + np.diag(problem.second_moment)        # vbar_j + M_jj
    diagonal_cost = np.diag(problem.precision)[None, :] * alone[:, None] - 2.0 * np.abs(problem.cross_moment.T)
    start = np.array(assignment_alignment(diagonal_cost, problem.cross_moment.T).permutation)
    rng = np.random.default_rng(seed)
    starts = [start, j.copy()] + [rng.permutation(k) for _ in range(restarts)]
    evaluated = 0
    best = (math.inf, None, None)
    for perm in starts:
        signs = _best_signs(problem, perm)
        cost = float(relabelling_cost(problem, perm[None], signs[None])[0])
        evaluated += 1
        while True:
            P, S = _neighbours(perm, signs)
            costs = relabelling_cost(problem, P, S)
            evaluated += len(P)
            i = int(np.argmin(costs))
            if not costs[i] < cost - 1e-12 * max(1.0, abs(cost)):
                break
            perm, signs, cost = P[i], S[i], float(costs[i])
        if cost < best[0]:
            best = (cost, perm, signs)
    if best[1] is None:
        raise ValueError("the relabelling cost is not finite for any signed permutation tried")
    how = (f"upper bound: local search (sign flips, pair swaps with sign choices) from linear assignment on the "
           f"diagonal part, the identity and {restarts} random starts")
    return Alignment(tuple(int(v) for v in best[1]), tuple(int(v) for v in best[2]), best[0], HEURISTIC,
                     evaluated, how)


def align(problem: AlignmentProblem, exact_max_k: int = EXACT_MAX_K, node_limit: int = NODE_LIMIT) -> Alignment:
    """The minimum for k <= ``exact_max_k``: enumeration up to :data:`ENUMERATION_MAX_K`, branch and bound above
    (an upper bound with a lower bound if ``node_limit`` bounds do not settle it); the heuristic above."""
    if problem.k > exact_max_k:
        return heuristic_alignment(problem)
    if problem.k <= ENUMERATION_MAX_K:
        return exact_alignment(problem)
    from .gauge_exact import branch_and_bound     # here, not at the top: gauge_exact builds on this module
    return branch_and_bound(problem, node_limit=node_limit).to_alignment()


# ------------------------------------------------------------------------- applying a relabelling
def signed_permutation_matrix(permutation, signs) -> np.ndarray:
    """G with G[j, permutation[j]] = signs[j]: under z -> G z, new latent j is signs[j] times old latent
    permutation[j]."""
    k = len(permutation)
    G = np.zeros((k, k))
    G[np.arange(k), list(permutation)] = signs
    return G


def relabel_parameters(params, G: np.ndarray):
    """``params`` (a record with fields W_mu, b_mu, W_sigma, b_sigma, D, b_D; biases 1-D or columns) after
    z -> G z: an equally optimal network (eq. 6 is unchanged: the prior N(0, I) and a diagonal q are invariant,
    and the decoder D G^T undoes the map in the reconstruction). Other fields are left as they are."""
    P = np.abs(G)            # variances are permuted, never negated
    return replace(params, W_mu=G @ params.W_mu, b_mu=G @ params.b_mu, W_sigma=P @ params.W_sigma,
                   b_sigma=P @ params.b_sigma, D=params.D @ G.T, b_D=params.b_D)


def relabel_encodings(mu: np.ndarray, var: np.ndarray, alignment: Alignment) -> tuple[np.ndarray, np.ndarray]:
    """Encoder means and variances (n x k) in source order: mu'[pi(j)] = sigma_j mu_j, v'[pi(j)] = v_j."""
    perm = np.asarray(alignment.permutation)
    mu2, var2 = np.empty_like(mu), np.empty_like(var)
    mu2[:, perm] = mu * np.asarray(alignment.signs, dtype=float)
    var2[:, perm] = var
    return mu2, var2
