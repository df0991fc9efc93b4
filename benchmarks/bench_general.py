"""Benchmarks of the general model's numerics: the top-k eigen-decomposition of a covariance, and the per-beta cost.

    python benchmarks/bench_general.py [--large]

Prints, measured in this run:
1. DataSpectrum.from_covariance (symmetry and Cholesky semi-definiteness checks, LAPACK's subset eigensolver for the
   top k + 1 eigenpairs) on a random N x N positive definite matrix, N = 2000 (and N = 10000 with ``--large``): wall
   time, what it allocated beyond the matrix (tracemalloc peak) and the process's peak RSS (the matrix included);
   the same matrix through numpy.linalg.eigvalsh (every eigenvalue, no vectors) for comparison;
2. general_terms per beta at k = 8, 64 and 512: a spectrum alone (per-unit sums, O(k)) and a mixing matrix (TIE's
   gauge alignment, a k x k linear assignment, on top).
"""
from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from numerics.data_spectrum import DataSpectrum
from numerics.optimum import general_terms


def random_covariance(N: int, seed: int = 0) -> np.ndarray:
    """B B^T / r + diag(u): positive definite, a spread spectrum, built in O(N^2 r) (not an N^3 product)."""
    rng = np.random.default_rng(seed)
    r = 64
    B = rng.standard_normal((N, r))
    S = B @ B.T / r
    S[np.diag_indices(N)] += rng.uniform(0.1, 1.0, N)
    return S


def covariance_rows(sizes, k: int = 8) -> list[tuple[str, float, str]]:
    out = []
    for N in sizes:
        S = random_covariance(N)
        ref = np.linalg.eigvalsh(S)[::-1] if N <= 4000 else None
        t_full = None
        if ref is not None:
            t0 = time.perf_counter()
            np.linalg.eigvalsh(S)
            t_full = time.perf_counter() - t0
        matrix_mib = S.nbytes / 2 ** 20
        tracemalloc.start()
        t0 = time.perf_counter()
        data = DataSpectrum.from_covariance(S, k)          # consumes S (documented): no copy is made here
        wall = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        note = (f"k = {k}; allocated {peak / 2 ** 20:.0f} MiB beyond the {matrix_mib:.0f} MiB matrix; "
                f"process peak RSS {rss:.0f} MiB")
        if ref is not None:
            err = float(np.max(np.abs(data.lam - ref[:k]) / ref[:k]))
            note += f"; eigvalsh (all eigenvalues) {t_full:.2f} s; top-k relative difference {err:.1e}"
        out.append((f"from_covariance, N = {N}", wall, note))
        del S, data
    return out


def per_beta(data, betas) -> float:
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        for b in betas:
            general_terms(data, float(b))
        best = min(best, time.perf_counter() - t0)
    return best / len(betas)


def terms_rows(ks=(8, 64, 512), N: int = 2000) -> list[tuple[str, float, str]]:
    rng = np.random.default_rng(1)
    betas = np.geomspace(0.05, 200, 200)
    out, base = [], {}
    for k in ks:
        spec = DataSpectrum.from_spectrum(rng.exponential(5.0, N), k)
        A = rng.standard_normal((N, k)) * np.geomspace(3.0, 0.3, k)
        mix = DataSpectrum.from_mixing(A)
        for label, data in (("spectrum", spec), ("mixing matrix, with TIE", mix)):
            t = per_beta(data, betas)
            base.setdefault(label, (k, t))
            k0, t0 = base[label]
            ratio = "" if k == k0 else f"; {t / t0:.1f}x the k = {k0} time for {k / k0:.0f}x the units"
            out.append((f"general_terms per beta, k = {k}, {label}", t, f"{t * 1e6:.0f} us per beta{ratio}"))
    return out


def rows(large: bool = False) -> list[tuple[str, float, str]]:
    """(what, seconds, comparison) for every benchmark of the general model, measured in this run."""
    return covariance_rows((2000, 10000) if large else (2000,)) + terms_rows()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--large", action="store_true", help="also from_covariance at N = 10000 (800 MB matrix)")
    args = parser.parse_args()
    table = rows(args.large)
    width = max(len(r[0]) for r in table)
    print(f"{'what':<{width}}  {'seconds':>9}  notes")
    for what, sec, note in table:
        print(f"{what:<{width}}  {sec:9.5f}  {note}")


if __name__ == "__main__":
    main()
