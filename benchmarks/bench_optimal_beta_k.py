"""optimal_beta at growing k: the fast route against the route it replaced, measured in one run.

    python benchmarks/bench_optimal_beta_k.py [--reference-max-k 64] [--no-memory]

Random mixing matrices (N = 2k, standard normal, numpy seed k), 50 digits. For each k: the time of
:func:`numerics.optimal_beta.optimal_beta`, the time of :func:`numerics.optimal_beta.optimal_beta_reference` (the
implementation before it: pure-Python exact algebra, mpmath eigsy, a grid of 1500 assignments per regime) where that
takes under ~70 s (k <= 64 on a 2-core machine; beyond, "not run (> budget)"), whether both give the same beta* and
TIE*, and the peak memory of the fast route's Python objects (tracemalloc, a separate untimed run; flint's C
allocations are not traced: its largest are the k x k eigenvector matrices, ~k^2 x 60 bytes at 50 digits).
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from numerics.optimal_beta import optimal_beta, optimal_beta_reference

KS = (8, 16, 32, 64, 128, 256)
REFERENCE_MAX_K = 64          # the reference takes ~60 s at k = 64 and grows like k^3.6
DIGITS = 50


def problem(k: int) -> np.ndarray:
    return np.random.default_rng(k).standard_normal((2 * k, k))


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _peak_mib(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


def rows(ks=KS, reference_max_k: int = REFERENCE_MAX_K, memory: bool = True) -> list[tuple[str, float, str]]:
    """(what, seconds, comparison) for each k, measured in this run."""
    out = []
    for k in ks:
        A = problem(k)
        t_fast, fast = _timed(lambda: optimal_beta(A, DIGITS))
        crossings = sum(x.type == "crossing" for x in fast.kinks)
        if k <= reference_max_k:
            t_ref, ref = _timed(lambda: optimal_beta_reference(A, DIGITS))
            same = ref.beta_star == fast.beta_star and ref.tie_star == fast.tie_star
            note = f"reference {t_ref:.2f} s ({t_ref / t_fast:.0f}x); same beta* and TIE*: {same}"
        else:
            note = "reference not run (> budget)"
        note += f"; {crossings} crossings, {len(fast.local_minima)} local minim(um/a)"
        if memory:
            note += f"; peak Python memory {_peak_mib(lambda: optimal_beta(A, DIGITS)):.1f} MiB"
        out.append((f"optimal beta, {DIGITS} digits, random N = {2 * k}, k = {k}", t_fast, note))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference-max-k", type=int, default=REFERENCE_MAX_K,
                        help="largest k at which the reference route is timed too (default 64)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args()
    table = rows(reference_max_k=args.reference_max_k, memory=not args.no_memory)
    width = max(len(r[0]) for r in table)
    print(f"{'what':<{width}}  {'seconds':>9}  notes")
    for what, sec, note in table:
        print(f"{what:<{width}}  {sec:9.3f}  {note}")


if __name__ == "__main__":
    main()
