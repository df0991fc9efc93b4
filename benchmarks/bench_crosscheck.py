"""Benchmarks of the cross-check (the linear model of Section IV.B trained with torch).

    python benchmarks/bench_crosscheck.py [--skip-cli]

Prints:
1. wall time of ``python -m verify crosscheck --quick --json`` (a fresh process: imports included)
   and its iterations per beta and seed;
2. wall time of the audit's plan (``deep.levels.audit_crosscheck()``), in a fresh process
   and in-process after a warm-up (the audit has torch imported already);
3. time to the same tolerance (the spectrum of D^T D within a relative error 1e-3, 1e-6, 1e-10 of the
   closed form's d_i^2; the objective is a poor yardstick: it is quadratic in the parameter error,
   so a gap of 1e-12 still allows a d^2 error of 1e-6), paper's problem: path (a) (L-BFGS + Newton) against L-BFGS alone and Adam on the
   exact objective (deterministic gradient), each given at most ``LIMIT`` seconds, and path (b) at
   the quick plan's budget; ratios to path (a).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fresh_process(code: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return time.perf_counter() - t0, out.stdout


def bench_cli():
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "verify", "crosscheck", "--quick", "--json"], capture_output=True,
                         text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    doc = json.loads(out.stdout)
    print(f"crosscheck --quick: {wall:.1f} s wall (fresh process; {doc['wall_time']:.1f} s inside run_crosscheck), "
          f"max_relative_error {doc['max_relative_error']:.2e}, exit {out.returncode}")
    for row in doc["per_beta"]:
        its = "; ".join(", ".join(f"{k}={v}" for k, v in it.items()) for it in row["iterations"])
        print(f"  {row['path']:>7} beta={row['beta']:<9g} max rel. err {row['max_relative_error']:.1e}  {its}")


def bench_audit():
    wall, out = fresh_process("import time; t=time.perf_counter(); from deep.levels import audit_crosscheck; "
                              "r=audit_crosscheck(); print(r.max_relative_error, r.wall_time, time.perf_counter()-t)")
    err, inner, total = (float(x) for x in out.split())
    print(f"audit plan, fresh process: {wall:.1f} s wall ({total:.1f} s after interpreter start, "
          f"{inner:.1f} s inside run_crosscheck), max_relative_error {err:.1e}")
    from deep.levels import audit_crosscheck
    audit_crosscheck()
    t0 = time.perf_counter()
    r = audit_crosscheck()
    print(f"audit plan, in-process after a warm-up: {time.perf_counter() - t0:.1f} s "
          f"({len(r.by_path('exact'))} path (a) runs, {len(r.by_path('sampled'))} path (b) runs)")


def bench_to_tolerance(beta: float):
    import numpy as np
    import torch

    from deep.linear.network import LinearVAE, exact_objective, exact_objective_flat
    from deep.linear.train import train_exact, train_sampled
    from deep.linear.plan import named_plan
    from numerics.optimum import closed_form_optimum, closed_form_terms
    from numerics.problems import paper_problem

    torch.set_num_threads(1)
    A = paper_problem().A
    At = torch.tensor(A)
    target = closed_form_terms(A, beta).objective
    d2 = closed_form_optimum(A, beta).d2
    gap = lambda f: abs(f - target) / abs(target)     # noqa: E731

    def d2_err(D):
        ev = np.sort(np.linalg.eigvalsh(D.T @ D))[::-1]
        return float(np.max(np.abs(ev - d2) / np.maximum(d2, 1)))

    rows = []
    train_exact(At, 2.0, 1)           # warm-up: the first call imports torch.func's machinery (~1 s)
    t0 = time.perf_counter()
    run = train_exact(At, beta, 0)
    t_a = time.perf_counter() - t0
    rows.append(("path (a): L-BFGS + Newton finish", {tol: t_a for tol in TOLS if d2_err(run.params.D) <= tol},
                 f"{run.lbfgs_iterations} L-BFGS it. + {run.newton_steps} Newton steps; final gap "
                 f"{gap(run.objective):.0e}, d^2 error {d2_err(run.params.D):.0e}, {t_a:.2f} s"))

    def timed_loop(step_fn, value_fn, D_fn, limit, check_every):
        """Run step_fn until every tolerance is reached or the time limit; check the gap every few steps."""
        reached, t0, n, best = {}, time.perf_counter(), 0, np.inf
        while time.perf_counter() - t0 < limit and len(reached) < len(TOLS):
            step_fn()
            n += 1
            if n % check_every == 0:
                g = d2_err(D_fn())
                best = min(best, g)
                for tol in TOLS:
                    if g <= tol and tol not in reached:
                        reached[tol] = time.perf_counter() - t0
        return reached, n, best, d2_err(D_fn())

    # L-BFGS alone, used as it is meant to be (one call, many iterations); the closure records when
    # the objective first reaches each tolerance and stops the run at the time limit
    theta = LinearVAE.initialised(*A.shape, 0).flat().clone().requires_grad_(True)
    opt = torch.optim.LBFGS([theta], lr=1, max_iter=10**6, max_eval=10**7, tolerance_grad=0, tolerance_change=0,
                            history_size=100, line_search_fn="strong_wolfe")
    reached, best, t0 = {}, [np.inf], time.perf_counter()

    class Stop(Exception):
        pass

    def closure():
        if time.perf_counter() - t0 > LIMIT or len(reached) == len(TOLS):
            raise Stop
        opt.zero_grad()
        loss = -exact_objective_flat(theta, At, beta)
        loss.backward()
        g = d2_err(theta.detach()[-3 * A.shape[0]:-A.shape[0]].view(A.shape[0], 2).numpy())
        best[0] = min(best[0], g)
        for tol in TOLS:
            if g <= tol and tol not in reached:
                reached[tol] = time.perf_counter() - t0
        return loss
    try:
        opt.step(closure)
        why = "stopped by itself"
    except Stop:
        why = "time limit" if len(reached) < len(TOLS) else "all reached"
    n = opt.state[theta].get("n_iter", 0)
    grad = torch.autograd.grad(exact_objective_flat(theta, At, beta), theta)[0]
    rows.append(("L-BFGS alone (strong Wolfe, history 100)", reached,
                 f"{n} iterations ({why}, {LIMIT:.0f} s max); objective gap "
                 f"{gap(float(exact_objective_flat(theta.detach(), At, beta))):.0e}, max|grad| {float(grad.abs().max()):.0e}"))

    net = LinearVAE.initialised(*A.shape, 0)
    adam = torch.optim.Adam(net.parameters(), lr=1e-2)

    def adam_step():
        adam.zero_grad()
        (-exact_objective(*net.tensors(), At, beta)).backward()
        adam.step()
    with_value = lambda: float(exact_objective(*net.tensors(), At, beta).detach())   # noqa: E731
    reached, n, best, de = timed_loop(adam_step, with_value, lambda: net.D.detach().numpy(), LIMIT, 50)
    rows.append(("Adam (lr 1e-2) on the exact objective", reached,
                 f"{n} steps in {LIMIT:.0f} s max; best d^2 error {best:.0e}, objective gap {gap(with_value()):.0e}"))

    s = named_plan("quick").sampled
    t0 = time.perf_counter()
    sr = train_sampled(At, beta, 0, s)
    t_b = time.perf_counter() - t0
    from deep.linear.metrics import network_terms
    g_b = gap(network_terms(sr.params, A, beta).objective)
    rows.append((f"path (b): Adam ({s.steps} x {s.batch}) + Newton on {s.refine_samples:.0e} samples",
                 {tol: t_b for tol in TOLS if d2_err(sr.params.D) <= tol},
                 f"final gap {g_b:.0e}, d^2 error {d2_err(sr.params.D):.0e}, {t_b:.1f} s"))

    print(f"\ntime until the spectrum of D^T D is within a relative error of the closed form's d_i^2, paper's "
          f"problem, beta = {beta:g}, seed 0 (ratio to path (a)):")
    print(f"  {'':<46}" + "".join(f"{'error <= ' + format(t, 'g'):>20}" for t in TOLS))
    for label, reached, note in rows:
        cells = "".join(f"{reached[t]:8.2f} s ({reached[t] / t_a:5.1f}x)" if t in reached else f"{'not reached':>20}"
                        for t in TOLS)
        print(f"  {label:<46}{cells}   {note}")


TOLS = (1e-3, 1e-6, 1e-10)
LIMIT = 20.0        # seconds per method and beta


def main():
    if "--skip-cli" not in sys.argv:
        bench_cli()
        bench_audit()
    for beta in (9.1, 0.5):
        bench_to_tolerance(beta)


if __name__ == "__main__":
    main()
