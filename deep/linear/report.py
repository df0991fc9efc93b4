"""The readable table of ``crosscheck``: relative errors against the closed form, per path and beta.

One row per beta: the worst relative error over the seeds of each column's quantities, then the
optimiser's work (path (a): L-BFGS iterations, Newton steps, saddle escapes, the Hessian's verdict)
or the Monte-Carlo z of path (b).

>>> from deep.linear.crosscheck import run_crosscheck
>>> r = run_crosscheck([[2.73, 0.73], [0.73, 2.73]], [2.0], [0], paths=("exact",))
>>> print(format_result(r).splitlines()[0])
crosscheck
"""
from __future__ import annotations

from .compare import BIAS_DOMINATED, MC_Z_LIMIT, same_sign
from .plan import PATHS
from .result import CrosscheckResult
from .time_constants import WINDOW_TAUS

COLUMNS = (("d^2", ("dtd_eigenvalues",)), ("Sigma_z", ("sigma_z",)),
           ("zeros", ("w_sigma", "b_mu", "b_D", "dtd_offdiagonal")), ("recon", ("reconstruction",)),
           ("KL", ("kl",)), ("ELBO", ("elbo",)), ("loglik", ("log_likelihood",)), ("MIE", ("mie",)),
           ("TIE", ("tie",)))


def format_result(r: CrosscheckResult, description: str = "") -> str:
    """The readable table of ``crosscheck`` (relative errors against the closed form, iterations)."""
    p, pr = r.problem, r.protocol
    lines = [f"crosscheck: {description}" if description else "crosscheck",
             "collapse thresholds beta = " + ", ".join(f"{t:.6g}" for t in p.get("collapse_thresholds", []))
             + f"; protocol {pr['name']}; {r.environment.get('device')}, float64; wall time {r.wall_time:.1f} s"]
    if "variances" in p:
        lines.append(f"general model: Sigma_x = {p['sigma_x']}; "
                     + ", ".join(f"{k} = {v:g}" for k, v in p["variances"].items()))
    g = r.gradient_check
    route = "the SymPy-generated gradient" if g["method"].startswith("torch") else "complex-step derivatives of " \
        "the SymPy-generated general objective"
    lines.append(f"gradient check: torch autograd vs {route} at {g['points']} random points: "
                 f"max relative difference {g['max_relative_error']:.1e} (tolerance {g['tolerance']:g})")
    lines.append("relative error = |trained - closed form| / max(|closed form|, 1); 'zeros' = max of |W_sigma|, "
                 "|b_mu|, |b_D|, off-diagonal of D^T D")
    head = f"{'beta':>9} " + " ".join(f"{name:>8}" for name, _ in COLUMNS)
    for path in PATHS:
        recs = r.by_path(path)
        if not recs:
            continue
        seeds = sorted({x.seed for x in recs})
        lines.append("")
        if path == "exact":
            lines.append(f"path (a): exact objective (eq. 21 with constants), L-BFGS (strong Wolfe) + Newton finish; "
                         f"worst over seeds {', '.join(map(str, seeds))}")
            lines.append(head + "  | L-BFGS iters   Newton  escapes  Hessian")
        else:
            s = pr["sampled"]
            if s.get("refine_samples", 0) > 0:
                lines.append(f"path (b): on fresh samples x = A s + eta, reparameterised: Adam ({s['steps']} steps x "
                             f"{s['batch']}, lr {s['lr']:g}, iterates averaged over the last {s['average_fraction']:.0%}), "
                             f"then Newton on the objective of {s['refine_samples']:,} fresh samples; "
                             f"seeds {', '.join(map(str, seeds))}")
            else:
                lines.append(f"path (b): Adam on fresh samples x = A s + eta, reparameterised ({s['steps']} steps x "
                             f"{s['batch']}, lr {s['lr']:g}, iterates averaged over the last "
                             f"{s['average_fraction']:.0%}); seeds {', '.join(map(str, seeds))}")
            lines.append(head + "  | max z (error / predicted Monte-Carlo rms) | h_min   Adam tau  window/tau  "
                                "Newton passes")
        for beta in sorted({x.beta for x in recs}):
            rs = [x for x in recs if x.beta == beta]
            cells = " ".join(_cell([x.comparisons[q].relative_error for x in rs for q in qs]) for _, qs in COLUMNS)
            if path == "exact":
                it = ",".join(str(x.optimiser["lbfgs_iterations"]) for x in rs)
                nw = ",".join(str(x.optimiser["newton_steps"]) for x in rs)
                es = ",".join(str(x.optimiser["escapes"]) for x in rs)
                kinds = sorted({x.optimiser["kind"] for x in rs})
                tail = f"  | {it:>12} {nw:>8} {es:>8}  {'/'.join(kinds)}"
            else:
                zs = [x.monte_carlo.get("max_z") for x in rs if x.monte_carlo and x.monte_carlo.get("max_z") is not None]
                tail = "  | " + (", ".join(f"{z:.3g}" for z in zs) if zs else "not predicted")
                tc = rs[0].time_constant
                if tc:
                    tail = f"{tail:<46}| {tc['h_min']:7.2g} {tc['tau_pred']:8.3g}  {tc['window_taus']:6.3g} " \
                           + ("converged" if tc["converged"] else "short")
                refined = [x.optimiser.get("refinement") for x in rs if x.optimiser.get("refinement")]
                if refined:
                    tail += "  " + ", ".join("skipped" if "skipped" in u else
                                             f"{u['passes']}" + ("" if u["converged"] else " UNCONVERGED")
                                             for u in refined)
            lines.append(f"{beta:9.5g} " + cells + tail)
        if path == "exact":
            lines.append(f"max_relative_error (path a, every quantity, beta and seed) = {r.max_relative_error:.2e}")
        else:
            lines.append(f"largest relative error of path (b) = {r.sampled_max_relative_error():.2e} "
                         f"(not part of max_relative_error; z <= {MC_Z_LIMIT:g} means within Monte-Carlo error)")
            if r.sampled_max_z is not None:
                first = [x.monte_carlo.get("max_z_first_order") for x in recs if x.monte_carlo]
                first = [z for z in first if z is not None]
                lines.append(f"sampled_max_z = {r.sampled_max_z:.3g} against the second-order prediction (covariance "
                             f"H^-1 S H^-1 / n and the estimator's O(1/n) bias, deep.linear.mc_bias)"
                             + (f"; {max(first):.3g} against the first-order prediction alone" if first else ""))
                dominated = [(x.beta, key, v) for x in recs if x.monte_carlo
                             for key, v in (x.monte_carlo.get("bias_dominated") or {}).items()]
                if dominated:
                    wrong = [f"{key} at beta = {b:g}" for b, key, v in dominated
                             if not same_sign(v)]
                    lines.append(f"bias-dominated entries (predicted bias > {BIAS_DOMINATED:g} first-order sd): "
                                 f"{len(dominated)}, observed error of the predicted bias's sign in "
                                 f"{len(dominated) - len(wrong)}" + (f"; opposite sign: {', '.join(wrong)}" if wrong
                                                                     else ""))
                lines.append(f"Adam tau = 1 / slowest rate of Adam's late preconditioned step at the optimum; its "
                             f"(lr-weighted) averaging window is 'converged' at >= {WINDOW_TAUS:g} tau; with a "
                             f"refinement Adam only starts Newton, which converged when its last step <= "
                             f"1e-10 (1 + max |theta|)")
    if any(x.comparisons["tie"].relative_error is None for x in r.records):
        lines.append("note: TIE n/a: with a covariance there are no sources, so no ground-truth posterior to compare with")
    if p.get("near_threshold"):
        lines.append("note: beta " + ", ".join(f"{b:g}" for b in p["near_threshold"]) +
                     " sits on a collapse threshold: the optimum is degenerate there and converges slowly")
    return "\n".join(lines)


def _cell(errors) -> str:
    defined = [e for e in errors if e is not None]
    return f"{max(defined):8.1e}" if defined else f"{'n/a':>8}"
