"""Benchmark of the exact gauge alignment (numerics.gauge_exact) against the local search, measured in one run.

    python benchmarks/bench_alignment.py [--repeat R]

For k = 8, 9, 10: problems as a trained Fig. 2 network presents them to the alignment (mu = x F^T G + noise,
var = diag(E), x from eq. (17) with the first k columns of the 64 x 10 digit mixing, G a random signed permutation),
at two noise levels. Prints the median wall time of the branch and bound (which includes its local-search start),
its bounds evaluated, whether it proved the minimum and recovered G, and the local search's time; at k = 8 the
enumeration of all 2^8 8! signed permutations too.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from deep.betavae.data import fig2_dataset, ground_truth_posterior, mixing_matrix, sklearn_digits
from deep.betavae.tie import alignment_problem
from numerics.gauge import exact_alignment, heuristic_alignment, signed_permutation_matrix
from numerics.gauge_exact import branch_and_bound

KS = (8, 9, 10)
NOISES = (0.1, 0.5, 1.0)
EXAMPLES = 1500


def fig2_like(A10: np.ndarray, k: int, noise: float, seed: int):
    """(problem, planted permutation, planted signs) for the first k digit columns."""
    A = A10[:, :k]
    rng = np.random.default_rng(seed)
    x = fig2_dataset(A, EXAMPLES, rng).observed
    post = ground_truth_posterior(A)
    perm, signs = rng.permutation(k), rng.choice([-1.0, 1.0], k)
    mu = x @ post.F.T @ signed_permutation_matrix(perm, signs).T + noise * rng.standard_normal((EXAMPLES, k))
    problem = alignment_problem(mu, np.tile(np.diag(post.E), (EXAMPLES, 1)), x, A)
    return problem, tuple(int(p) for p in perm), tuple(int(s) for s in signs)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def rows(repeat: int = 3) -> list[tuple[str, float, str]]:
    """(what, seconds, comparison) per k and noise: medians over ``repeat`` problems (seeds 0..repeat-1)."""
    A10 = mixing_matrix(sklearn_digits(), 10)
    out = []
    for k in KS:
        for noise in NOISES:
            t_bb, t_h, nodes, proved, found = [], [], [], 0, 0
            for seed in range(repeat):
                problem, perm, signs = fig2_like(A10, k, noise, seed)
                t, r = _timed(lambda: branch_and_bound(problem))
                t_bb.append(t)
                nodes.append(r.nodes)
                proved += r.proved_optimal
                found += (r.permutation, r.signs) == (perm, signs)
                t_h.append(_timed(lambda: heuristic_alignment(problem))[0])
            note = (f"median {int(np.median(nodes))} bounds (max {max(nodes)}); proved {proved}/{repeat}, planted G "
                    f"recovered {found}/{repeat}; local search alone {np.median(t_h):.3f} s (an upper bound)")
            if k == 8:
                t_e = _timed(lambda: exact_alignment(problem))[0]
                note += f"; enumeration of 2^8 8! {t_e:.2f} s"
            out.append((f"exact alignment k = {k}, noise {noise} (branch and bound)", float(np.median(t_bb)), note))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="problems per (k, noise): the median is printed")
    args = parser.parse_args()
    for what, sec, note in rows(args.repeat):
        print(f"{what:<50}  {sec:8.3f} s  {note}")


if __name__ == "__main__":
    main()
