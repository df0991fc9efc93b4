"""Benchmarks of the numerics, measured in one run (ratios matter more than seconds on a noisy machine).

    python benchmarks/bench_numerics.py

Prints: the 100-point curve for the paper's problem and for N = 100,000, k = 32 (with peak memory),
and the closed-form curve against a naive per-beta evaluation through the generated general
formulas with N x N matrices (the structure the closed form exploits).
"""
from __future__ import annotations

import resource
import time
import tracemalloc

import numpy as np

from numerics import generated as gen
from numerics.curve import beta_curve
from numerics.model import spectrum
from numerics.optimum import closed_form_optimum
from numerics.problems import paper_problem, random_problem


def timed(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def rows() -> list[tuple[str, float, str]]:
    """(what, seconds, comparison) for every numerics benchmark, measured in this run."""
    betas = np.geomspace(0.05, 200, 100)
    out = []
    paper = paper_problem().A
    t_paper, _ = timed(lambda: beta_curve(paper, betas))
    out.append(("curve, paper problem (N=128, k=2), 100 betas", t_paper, f"{t_paper / len(betas) * 1e6:.0f} us per beta"))
    big = random_problem(100_000, 32, seed=0).A
    tracemalloc.start()
    t_big, _ = timed(lambda: beta_curve(big, betas), repeat=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.append(("curve, N=100,000, k=32, 100 betas", t_big,
                 f"allocated during the curve {peak / 2**20:.1f} MiB; process peak RSS {rss:.0f} MiB (A is {big.nbytes / 2**20:.0f} MiB)"))

    S = paper @ paper.T + np.eye(paper.shape[0])

    def naive():   # the generated general formulas, N x N matrices, one beta at a time
        return [gen.objective(*closed_form_optimum(paper, b).arrays(), S, b) for b in betas]
    t_naive, _ = timed(naive, repeat=1)
    out.append(("objective via generated N x N formulas, paper problem, 100 betas", t_naive,
                 f"closed-form curve is {t_naive / t_paper:.0f}x faster"))
    from numerics.optimum import closed_form_terms
    from numerics.problems import fig3_problem
    from numerics.stationary import solve_stationary
    A3 = fig3_problem().A
    t_stat, _ = timed(lambda: solve_stationary(A3, 1.5, starts=24, seed=0), repeat=1)
    t_closed, _ = timed(lambda: closed_form_terms(A3, 1.5), repeat=20)
    out.append(("general stationarity solver, Fig. 3 problem, one beta", t_stat,
                 f"closed form is {t_stat / t_closed:.0f}x faster ({t_closed * 1e6:.0f} us)"))
    from numerics.optimal_beta import optimal_beta
    t_ob, ob = timed(lambda: optimal_beta(paper, digits=50), repeat=1)
    from scipy.optimize import minimize_scalar
    lam = spectrum(paper).collapse_thresholds

    def float_argmin():   # what one would write by hand: bounded float64 search on the closed-form TIE
        return minimize_scalar(lambda b: closed_form_terms(paper, b).tie, bounds=(1.0, float(lam[0])),
                               method="bounded", options={"xatol": 1e-12}).x
    t_float, b_float = timed(float_argmin, repeat=3)
    agree = -np.log10(abs(b_float - float(ob.beta_star)) / float(ob.beta_star) + 1e-17)
    out.append(("float64 argmin of TIE (scipy minimize_scalar, bounded), paper problem", t_float,
                f"agrees with beta* to {agree:.0f} digits"))
    out.append(("optimal beta to 50 digits (mpmath, self-checked), paper problem", t_ob,
                f"{t_ob / t_float:.0f}x the float64 argmin, for 50 confirmed digits"))
    t_ob200, _ = timed(lambda: optimal_beta(paper, digits=200), repeat=1)
    out.append(("optimal beta to 200 digits, paper problem", t_ob200, f"{t_ob200 / t_ob:.1f}x the 50-digit run"))
    return out


def main():
    table = rows()
    width = max(len(r[0]) for r in table)
    print(f"{'what':<{width}}  {'seconds':>9}  notes")
    for what, sec, note in table:
        print(f"{what:<{width}}  {sec:9.4f}  {note}")


if __name__ == "__main__":
    main()
