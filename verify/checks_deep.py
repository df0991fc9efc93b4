"""Claims checked with trained networks: Fig. 2 (Section V), Fig. 3 (Appendix C) and the trained linear
model of Section IV.B against the closed form.

Each trend is decided by paired tests across seeds at a stated confidence level (``verify.seed_statistics``:
expanded percentile bootstrap intervals over seeds, with the exact sign test of the per-seed differences; the deep
runs use common random numbers, so realisation s has the same data, initialisation and noise at every beta). A
trend the runs cannot decide is not-checked, and says how many seeds would decide it (80% power). A verdict says
what the runs show at the protocol that was run; the protocol, how many runs converged and the gap to the linear
optimum go with it (``experiment_record``).

>>> from types import SimpleNamespace
>>> import numpy as np
>>> r = SimpleNamespace(seeds=(0, 1), betas=np.array([1.0, 2.0]), protocol={"name": "x", "epochs": 10},
...                     source="run", converged=np.array([[True, True], [True, False]]),
...                     epochs_run=np.array([[10, 8], [9, 10]]), gap_to_linear_optimum=np.array([[0.1, -0.3], [0.2, 0]]))
>>> experiment_record(r)["converged"], experiment_record(r)["max_abs_gap_to_linear_optimum"]
({'runs': 4, 'converged': 3}, 0.3)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import seed_statistics as ss
from .outcome import Step, confirmed, not_checked, qualified, refuted

CONFIDENCE = ss.CONFIDENCE
ELBO_BAND = (0.5, 2.0)            # "maximized around beta = 1" (Sec. V): the argmax must fall in this band
MOST_CONVERGED = 0.5              # below this fraction of converged runs no verdict is given


def _b(beta) -> str:
    return f"{float(beta):.3g}"


def _table(betas, values) -> str:
    """Seed-mean +- standard error per beta."""
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    se = values.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(values.shape[1])
    return ", ".join(f"{_b(b)}: {m:.5g}±{s:.2g}" for b, m, s in zip(betas, values.mean(axis=0), se))


def _curve(betas, curve) -> str:
    return ", ".join(f"{_b(b)}: {v:.5g}" for b, v in zip(betas, curve))


def _protocol(result) -> dict:
    return dict(result.protocol) if isinstance(result.protocol, dict) else {"protocol": str(result.protocol)}


# ------------------------------------------------------------------------------ runs: convergence and the record
@dataclass(frozen=True)
class Convergence:
    """How the runs of a result ended (only when the result records it)."""

    runs: int
    converged: int
    stopping: str                     # the stopping rule, as the protocol states it
    failed: tuple                     # (seed, beta) of the runs that did not converge
    too_short: bool = False           # every run that did not converge was too short for the rule to tell
    runs_per_beta: int = 0

    @property
    def fraction(self) -> float:
        return self.converged / self.runs if self.runs else 0.0

    def text(self) -> str:
        if len(self.failed) <= 4:
            shown, more = ", ".join(f"(seed {s}, beta {_b(b)})" for s, b in self.failed), ""
        else:      # many: how many at each beta (non-convergence is a property of a beta: memorisation, collapse)
            per = {}
            for _, b in self.failed:
                per[b] = per.get(b, 0) + 1
            shown = "at beta " + ", ".join(f"{_b(b)}: {n} of {self.runs_per_beta}" for b, n in sorted(per.items()))
            more = ""
        return (f"{self.converged} of {self.runs} runs converged (stopping rule: {self.stopping})"
                + (f"; not converged: {shown}{more}" if self.failed else "")
                + ("; too short for the rule to tell" if self.too_short else ""))


def _stopping(protocol: dict) -> str:
    rule = protocol.get("stopping")
    if isinstance(rule, dict):
        rest = [f"{k} {v}" for k, v in rule.items() if k != "rule"]
        return ", ".join([str(rule.get("rule", "stated"))] + rest)
    return str(rule) if rule else f"none, a fixed {protocol.get('epochs', '?')} epochs, judged after the run"


def convergence(result) -> Convergence | None:
    """The result's convergence record, None when it has none (an older artifact, a synthetic table)."""
    flags = getattr(result, "converged", None)
    if flags is None:
        return None
    flags = np.asarray(flags, dtype=bool)
    failed = tuple((int(result.seeds[i]), float(result.betas[j])) for i, j in zip(*np.nonzero(~flags)))
    last = getattr(result, "last_improvement", None)
    short = bool(failed) and last is not None and bool(np.all(np.isnan(np.asarray(last, dtype=float)[~flags])))
    return Convergence(int(flags.size), int(flags.sum()), _stopping(_protocol(result)), failed, short,
                       int(flags.shape[0]))


def experiment_record(result) -> dict:
    """What claims.json carries for a trained-network claim: seeds, epochs (the most any run trained, else the
    protocol's), converged runs ({"runs", "converged"} counts; None if not recorded), the largest |trained objective -
    linear optimum| in nats per example (None if not recorded) and where the numbers come from."""
    p = _protocol(result)
    run = getattr(result, "epochs_run", None)
    epochs = int(np.max(run)) if run is not None and np.size(run) else p.get("epochs")
    conv = convergence(result)
    gap = getattr(result, "gap_to_linear_optimum", None)
    gap = np.asarray(gap, dtype=float) if gap is not None else np.array([])
    gap = gap[np.isfinite(gap)]
    return {"seeds": len(result.seeds), "epochs": epochs,
            "converged": None if conv is None else {"runs": conv.runs, "converged": conv.converged},
            "max_abs_gap_to_linear_optimum": float(np.max(np.abs(gap))) if gap.size else None,
            "source": getattr(result, "source", None),
            "spot_check": _spot_summary(getattr(result, "spot_check", None)),
            "code_hash_matches": (getattr(result, "provenance", None) or {}).get("code_hash_matches")}


def _spot_summary(sc) -> dict | None:
    """The spot check in a claim's experiment record (its rows are in the step's detail and in run.json)."""
    if sc is None:
        return None
    worst = sc.worst()
    return {"passed": sc.passed, "seed": sc.seed, "betas": list(sc.betas), "values": len(sc.rows),
            "largest_difference_over_tolerance": abs(worst.difference) / worst.tolerance, "wall_time": sc.wall_time,
            "tolerance_rule": sc.tolerance_rule}


def _measured(result, networks: str | None = None) -> dict:
    """The grade of a step read off trained networks: how many, how they ended, at which protocol (``networks``:
    the ones the step looks at, when not every seed at every beta)."""
    p = _protocol(result)
    networks = networks or f"{len(result.seeds)} seed(s) per beta x {len(result.betas)} betas"
    conv = convergence(result)
    if conv is not None:
        training = f"{conv.converged} of {conv.runs} runs converged (stopping rule: {conv.stopping})"
    elif p.get("epochs") is not None:
        training = f"{p['epochs']} epochs each (a fixed budget; convergence not tested)"
    else:
        training = "training length not recorded"
    return dict(grade="measured", basis=f"{networks}, {training}, protocol '{p.get('name', p.get('protocol', '?'))}'")


def _evidence_steps(result, where) -> list[Step]:
    """Stored evidence is used only after its spot check reproduces it (a support step: a failure stops the verdict),
    with a finding on whether the code that produced it is the code running now."""
    if getattr(result, "source", "run") != "artifact":
        return []
    out = []
    sc = getattr(result, "spot_check", None)
    if sc is not None:
        worst = sc.worst()
        out.append(Step(f"the stored evidence reproduces: realisation {sc.seed} re-trained at beta = "
                        f"{', '.join(f'{b:g}' for b in sc.betas)} gives the stored numbers", sc.passed,
                        f"{sum(r.holds for r in sc.rows)} of {len(sc.rows)} values within tolerance ({sc.tolerance_rule}); "
                        f"largest |difference| / tolerance = {abs(worst.difference) / worst.tolerance:.3g} ({worst.quantity} "
                        f"at beta = {worst.beta:g}: stored {worst.stored:.6g}, re-run {worst.rerun:.6g})", where,
                        role="support"))
    prov = getattr(result, "provenance", None) or {}
    if prov:
        same = prov.get("code_hash_matches")
        out.append(Step("the stored evidence was produced by the code running now (hash of the training and evaluation "
                        "modules' code)", bool(same),
                        f"stored {prov.get('code_hash')}, now {prov.get('current_code_hash')}; regenerate with: "
                        f"{' '.join(prov.get('command', []))}", where, role="finding", **_measured(result)))
    return out


def _conclude(result, where, verdict, evidence, steps, **kw):
    """The verdict with the runs' record: a step on convergence (a finding: it qualifies the evidence, the trend
    tests decide), and no verdict at all when fewer than half of the runs converged."""
    steps = list(steps) + _evidence_steps(result, where)
    kw["experiment"] = experiment_record(result)
    kw.setdefault("protocol", _protocol(result))
    conv = convergence(result)
    if conv is not None:
        steps.append(Step("every training run converged", conv.converged == conv.runs, conv.text(), where,
                          role="finding", **_measured(result)))
        if conv.fraction < MOST_CONVERGED:
            for key in ("counterexample", "condition"):
                kw.pop(key, None)
            return not_checked(f"runs did not converge: {conv.text()}; the trend tests would have given: {evidence}",
                               steps, **kw)
        if conv.failed:
            evidence += f" ({len(conv.failed)} of {conv.runs} runs did not converge and are included: {conv.text()})"
    return verdict(evidence, steps, **kw)


# ------------------------------------------------------------------------------ the three trend shapes
def _run(ctx, which):
    result = ctx.fig2() if which == "fig2" else ctx.fig3()
    from deep.betavae import plots
    return result, _figure(ctx, f"{which}.png", result, plots.plot_fig2 if which == "fig2" else plots.plot_fig3)


def _figure(ctx, name, result, plotter):
    path = ctx.figure_path(name)
    if path is not None and name not in ctx._memo:
        plotter(result, path)
        ctx._memo[name] = path
    return (name,) if path is not None else ()


def _undecided(decision) -> str:
    return "underpowered" if decision.underpowered else "undecided"


def _decreasing(ctx, which: str, quantity: str, label: str, where: str, name: str):
    result, figs = _run(ctx, which)
    values = np.asarray(getattr(result, quantity), dtype=float)
    m = ss.non_increasing(result.betas, values, CONFIDENCE, name=name)
    graded = _measured(result)
    rises = "; ".join(s.text() for s in m.increases) or "none decided"
    steps = [Step(f"{label}: no step along beta rises beyond seed noise ({m.step_text()})", not m.increases,
                  f"{_table(result.betas, values)}; rises: {rises}", where, **graded),
             Step(f"{label}: overall decrease from the smallest to the largest beta "
                  f"({ss.percent(m.overall.confidence)} confidence)", m.overall.direction < 0, m.overall.text(), where,
                  **graded)]
    if m.verdict == "refuted":
        s = m.increases[0]
        i = m.steps.index(s)
        return _conclude(result, where, refuted,
                         f"{label} increases from beta = {_b(m.betas[i])} to {_b(m.betas[i + 1])}: {s.text()} "
                         f"({m.step_text()})", steps,
                         counterexample={"beta1": m.betas[i], "beta2": m.betas[i + 1], "increase": s.estimate,
                                         "interval": [s.low, s.high], "confidence": s.confidence}, figures=figs)
    if m.verdict == "undecided":
        d = m.deciding
        return _conclude(result, where, not_checked,
                         f"{label}: {_undecided(m)} at {ss.percent(CONFIDENCE)} confidence: no step rises beyond seed "
                         f"noise, but the decrease is not established: {d.text()} ({_table(result.betas, values)})",
                         steps, figures=figs)
    return _conclude(result, where, confirmed,
                     f"{label} decreases with beta: {m.overall.text()}; no step rises beyond seed noise "
                     f"({m.step_text()})", steps, figures=figs)


def _elbo_near_one(ctx, which: str, where: str):
    result, figs = _run(ctx, which)
    elbo = np.asarray(result.elbo, dtype=float)
    p = ss.peak_within(result.betas, elbo, ELBO_BAND, CONFIDENCE, name="ELBO")
    graded = _measured(result)
    band = f"[{_b(ELBO_BAND[0])}, {_b(ELBO_BAND[1])}]"
    contrast = p.contrast.text() if p.contrast else "every beta of the grid is in the band"
    rises = "; ".join(s.text() for s in p.beyond.increases) if p.beyond else ""
    steps = [Step(f"the seed-mean ELBO is largest at a beta in {band}: the best beta inside beats every beta outside "
                  f"(both re-selected in every resample)", p.verdict == "confirmed",
                  f"argmax beta = {_b(p.argmax_beta)}; argmax over {ss.RESAMPLES} resamples: {p.frequency_text()}; "
                  f"{contrast}; {_table(result.betas, elbo)}", where, **graded),
             Step("ELBO does not rise beyond its maximum" + (f" ({p.beyond.step_text()})" if p.beyond else ""),
                  p.beyond is None or not p.beyond.increases, f"rises: {rises or 'none decided'}", where, **graded),
             Step("the ELBO at its maximum against its neighbours on the grid", all(n.direction > 0 for n in p.neighbours),
                  "; ".join(n.text() for n in p.neighbours) or "no neighbours", where, role="finding", **graded)]
    if p.verdict == "refuted":
        return _conclude(result, where, refuted,
                         f"ELBO is largest at beta = {_b(p.best_outside_beta)}, not around 1: {contrast}", steps,
                         counterexample={"argmax_beta": p.best_outside_beta, "mean_elbo": list(p.mean),
                                         "interval": [p.contrast.low, p.contrast.high],
                                         "confidence": p.contrast.confidence}, figures=figs)
    if p.verdict == "undecided":
        return _conclude(result, where, not_checked,
                         f"ELBO {_undecided(p)} at {ss.percent(CONFIDENCE)} confidence: the seed-mean "
                         f"peaks at beta = {_b(p.argmax_beta)}, but whether the peak lies in {band} is not established: "
                         f"{contrast}", steps, figures=figs)
    if p.beyond is not None and p.beyond.increases:
        return _conclude(result, where, qualified,
                         f"ELBO peaks at beta = {_b(p.best_inside_beta)} ({contrast}) but does not decrease "
                         f"monotonically beyond: {rises}", steps, condition="peak near 1 only", figures=figs)
    return _conclude(result, where, confirmed,
                     f"the seed-mean ELBO is largest at beta = {_b(p.best_inside_beta)} and decreases beyond: {contrast}"
                     f"; no step beyond it rises", steps, figures=figs)


_TIE_LABEL = {"mean": "seed-mean TIE",
              "quantile": "lower decile of TIE across seeds (the best 10% of initialisations)"}


def _minimum_text(m: ss.InteriorMinimum) -> str:
    return (f"{m.contrast.text() if m.contrast else 'the grid has no interior beta'}; {m.statistic} per beta: "
            f"{_curve(m.betas, m.curve)}")


def _tie_optimum(ctx, which: str, where: str, statistic: str = "mean"):
    result, figs = _run(ctx, which)
    tie = np.asarray(result.tie, dtype=float)
    m = ss.interior_minimum(result.betas, tie, CONFIDENCE, statistic=statistic, name="TIE")
    label = _TIE_LABEL[statistic]
    graded = _measured(result)
    steps = [Step(f"the {label} is smallest strictly inside the beta grid, both ends above it beyond seed noise "
                  f"(the minimum re-selected in every resample)", m.verdict == "confirmed",
                  f"argmin beta = {_b(m.argmin_beta)}; {_minimum_text(m)}", where, **graded),
             Step("gauge alignment of every TIE value", True, _alignment_note(result), where, role="finding", **graded)]
    if statistic == "quantile":
        # the caption's "minima over initialisations": reported as the paper plots it, decided on the lower decile
        steps.append(Step("the minimum TIE over seeds (the caption's statistic: not resampled, reported)", True,
                          _curve(result.betas, tie.min(axis=0)), where, role="finding", **graded))
    if m.verdict == "refuted":
        end = m.betas[0] if m.curve[0] <= m.curve[-1] else m.betas[-1]
        return _conclude(result, where, refuted,
                         f"the {label} is smallest at the edge of the beta grid (beta = {_b(end)}): no interior "
                         f"optimum: {m.contrast.text()}", steps,
                         counterexample={"argmin_beta": end, "curve": list(m.curve),
                                         "interval": [m.contrast.low, m.contrast.high]}, figures=figs)
    if m.verdict == "undecided":
        return _conclude(result, where, not_checked,
                         f"the {label} (latents aligned to the sources): {_undecided(m)} at {ss.percent(CONFIDENCE)} "
                         f"confidence: its minimum is at beta = {_b(m.argmin_beta)}, but an interior optimum beyond "
                         f"seed noise is not established: {_minimum_text(m)}", steps, figures=figs)
    b_opt = m.interior_argmin_beta
    vae = " (the plain VAE: no beta != 1 on this grid improves TIE at this protocol)" if abs(b_opt - 1) < 1e-12 else ""
    found = (f"the {label} (latents aligned to the sources) is non-monotone with an optimal beta = {_b(b_opt)} inside "
             f"the grid{vae}: {m.contrast.text()}")
    raw = getattr(result, "tie_identity", None)
    if raw is None:
        return _conclude(result, where, confirmed, found + "; the TIE of the latents as trained was not reported by "
                         "the run", steps, figures=figs, data={"optimal_beta": b_opt})
    # TIE (3) compares z with s as they are; a trained network's latents carry an arbitrary signed permutation
    # (the objective cannot tell), so the claim is judged as the paper states it too, on the unaligned TIE.
    r = ss.interior_minimum(result.betas, np.asarray(raw, dtype=float), CONFIDENCE, statistic=statistic, name="TIE")
    holds_raw = r.verdict == "confirmed"
    steps.append(Step(f"the {label} of the latents as trained (no alignment: TIE (3) as written) has an interior "
                      "optimum beyond seed noise", holds_raw, f"argmin beta = {_b(r.argmin_beta)}; {_minimum_text(r)}",
                      where, **graded))
    if holds_raw:
        return _conclude(result, where, confirmed, found + f"; so is the TIE of the latents as trained (optimum beta = "
                         f"{_b(r.interior_argmin_beta)})", steps, figures=figs, data={"optimal_beta": b_opt})
    why = ("has no interior optimum: " if r.verdict == "refuted" else
           f"has no interior optimum established at {ss.percent(CONFIDENCE)} confidence: ")
    return _conclude(result, where, qualified,
                     found + f". Without the alignment, the TIE of the latents as trained (eq. 3 as written, z compared "
                     f"with s as they are) {why}its {r.statistic} is smallest at beta = {_b(r.argmin_beta)} "
                     f"({_minimum_text(r)})", steps,
                     condition="TIE is evaluated with the trained latents aligned to the sources (the signed "
                     "permutation of z that minimises TIE); the objective cannot distinguish the equally optimal "
                     "relabellings, and the paper does not say how it matched z to s",
                     figures=figs, data={"optimal_beta": b_opt})


def _alignment_note(result) -> str:
    flags = [a.is_exact for row in getattr(result, "alignment", ()) for a in row]
    if flags and all(flags):
        return "exact: minimum over every signed permutation of the latents"
    if flags:
        return (f"{flags.count(False)} of {len(flags)} values from a local search over signed permutations "
                "(k too large to enumerate): each is an upper bound of the gauge-aligned TIE")
    return "not reported by the run"


# ------------------------------------------------------------------------------ Fig. 2
def check_fig2_elbo(ctx):
    return _elbo_near_one(ctx, "fig2", "Fig. 2A")


def check_fig2_tie(ctx):
    return _tie_optimum(ctx, "fig2", "Fig. 2B")


def check_fig2_reconstruction(ctx):
    return _decreasing(ctx, "fig2", "reconstruction", "the reconstruction objective", "Fig. 2C", "reconstruction")


def check_fig2_kl(ctx):
    return _decreasing(ctx, "fig2", "kl", "the conditional independence loss", "Fig. 2D", "KL")


# ------------------------------------------------------------------------------ Fig. 3
def check_fig3_elbo(ctx):
    return _elbo_near_one(ctx, "fig3", "Fig. 3A")


def check_fig3_tie(ctx):
    return _tie_optimum(ctx, "fig3", "Fig. 3B", statistic="quantile")


def check_fig3_reconstruction(ctx):
    return _decreasing(ctx, "fig3", "reconstruction", "the reconstruction objective", "Fig. 3C", "reconstruction")


def check_fig3_kl(ctx):
    return _decreasing(ctx, "fig3", "kl", "the conditional independence loss", "Fig. 3D", "KL")


# ------------------------------------------------------------------------------ Section IV.B, trained
def check_trained_linear(ctx):
    r = ctx.crosscheck()
    tol = 1e-6
    steps = [Step("path (a): the linear network trained on the exact objective (eq. 21 with constants) reaches the "
                  "closed form (D^T D spectrum, W_sigma, Sigma_z, reconstruction, KL, ELBO, MIE, TIE)",
                  r.max_relative_error <= tol, f"max relative error {r.max_relative_error:.3g} (tolerance {tol:g})",
                  "eqs. 22-23", **_measured_linear(r, "exact")),
             Step("torch autograd gradient = the gradient generated from the SymPy derivation",
                  _gradient_ok(r), f"{_gradient_detail(r)}", "eqs. 42-47", role="support"),
             Step("path (b): trained on samples x = A s + eta with the reparameterisation estimator (Monte-Carlo "
                  "noise: reported, not judged)", True,
                  f"max relative error {r.sampled_max_relative_error():.3g} over betas "
                  f"{sorted({rec.beta for rec in r.by_path('sampled')})}", "Sec. IV.B", role="finding",
                  **_measured_linear(r, "sampled"))]
    proto = dict(r.protocol)
    if r.max_relative_error > tol:
        return refuted(f"trained linear networks do not reach the closed-form optimum (max relative error "
                       f"{r.max_relative_error:.3g})", steps, counterexample={"max_relative_error": r.max_relative_error},
                       protocol=proto)
    return confirmed(f"the trained linear model reaches the closed-form optimum that numerically solving eq. (23) "
                     f"is meant to find (max relative error {r.max_relative_error:.2g} over every quantity and beta)",
                     steps, protocol=proto)


def _measured_linear(r, path: str) -> dict:
    """The grade of a step read off the trained linear networks of one path: runs, seeds, betas and how they ended."""
    recs = r.by_path(path)
    runs = f"{len(recs)} networks ({len({x.seed for x in recs})} seed(s) x {len({x.beta for x in recs})} betas)"
    if path == "exact":
        done = sum(bool(x.optimiser.get("converged")) for x in recs)
        how = f"L-BFGS + Newton on the exact objective, {done} of {len(recs)} converged (gradient tolerance met)"
    else:
        steps = sorted({x.optimiser.get("steps") for x in recs}, key=str)
        how = f"Adam on samples, {', '.join(map(str, steps))} steps each (a fixed budget, Monte-Carlo noise)"
    return dict(grade="measured", basis=f"{runs}, {how}, plan '{r.protocol.get('name', '?')}'")


def _gradient_ok(r) -> bool:
    g = r.gradient_check
    value = g.get("max_relative_error") if isinstance(g, dict) else getattr(g, "max_relative_error", None)
    return value is not None and value <= 1e-10


def _gradient_detail(r) -> str:
    g = r.gradient_check
    value = g.get("max_relative_error") if isinstance(g, dict) else getattr(g, "max_relative_error", None)
    return f"max relative difference {value:.3g}" if value is not None else str(g)


# ------------------------------------------------------------------------------ Fig. 3E, latent traversals
def _centroid(image) -> np.ndarray:
    """Intensity-weighted (positive part) pixel position (row, column) of a decoded canvas."""
    w = np.clip(np.asarray(image, dtype=float), 0, None)
    total = w.sum()
    if total <= 0:
        return np.array([np.nan, np.nan])
    rows, cols = np.indices(w.shape)
    return np.array([(rows * w).sum() / total, (cols * w).sum() / total])


def traversal_axes(images) -> dict:
    """For traversal images (k, steps, side, side): the digit's displacement (pixels) along each latent and the
    |cosine| between the two latents' directions of motion (least-squares slope of the centroid)."""
    k, steps = images.shape[:2]
    slopes = []
    for i in range(k):
        c = np.array([_centroid(images[i, s]) for s in range(steps)])
        t = np.arange(steps) - (steps - 1) / 2
        slopes.append(np.array([np.polyfit(t, c[:, d], 1)[0] for d in range(2)]) * (steps - 1))
    slopes = np.array(slopes)
    norms = np.linalg.norm(slopes, axis=1)
    # undefined values are None, never NaN (a blank canvas has no centroid; a unit that does not move, no direction)
    cos = float(abs(slopes[0] @ slopes[1]) / (norms[0] * norms[1])) if np.all(norms > 0) else None
    return {"displacement_pixels": [None if not np.isfinite(d) else d for d in norms.tolist()], "abs_cos": cos}


def _pixels(displacements) -> str:
    if any(d is None for d in displacements):
        return str([None if d is None else round(d, 3) for d in displacements])
    return str(np.round(displacements, 3).tolist())


def _cos_text(cos) -> str:
    return "undefined (a unit does not move the digit)" if cos is None else f"{cos:.3g}"


def check_fig3_traversal(ctx, moving_pixels: float = 0.5, orthogonal_cos: float = 0.34):
    result, figs = _run(ctx, "fig3")
    proto = _protocol(result)
    betas = np.asarray(result.betas, dtype=float)
    recon = np.asarray(result.reconstruction, dtype=float)
    lo, hi = float(result.traversal_betas[0]), float(result.traversal_betas[-1])
    i_lo, i_hi = int(np.argmin(abs(np.log(betas / lo)))), int(np.argmin(abs(np.log(betas / hi))))
    drop = ss.paired_interval(recon[:, i_lo] - recon[:, i_hi], CONFIDENCE,
                              what=f"reconstruction({lo:g}) - reconstruction({hi:g})")
    axes = {float(b): traversal_axes(result.traversal[j]) for j, b in enumerate(result.traversal_betas)}
    big = axes[hi]
    moving = all(d is not None and d > moving_pixels for d in big["displacement_pixels"])
    orthogonal = moving and big["abs_cos"] is not None and big["abs_cos"] < orthogonal_cos
    kl_hi = float(np.asarray(result.kl)[:, i_hi].mean())
    one = _measured(result, f"one network (the first realisation) at each of beta = {lo:g}, {hi:g}")
    steps = [Step(f"reconstruction worse at beta = {hi:g} than at beta = {lo:g}", drop.direction > 0, drop.text(),
                  "Fig. 3E", **_measured(result)),
             Step(f"at beta = {hi:g} both units move the digit (> {moving_pixels} pixel over the traversal)", moving,
                  f"displacements {_pixels(big['displacement_pixels'])} pixels; KL there {kl_hi:.3g}",
                  "Fig. 3E", **one),
             Step(f"at beta = {hi:g} the two axes of motion are orthogonal (|cos| < {orthogonal_cos})", orthogonal,
                  f"|cos| = {_cos_text(big['abs_cos'])}", "Fig. 3E", **one),
             Step(f"at beta = {lo:g}: axes of motion", True,
                  f"displacements {_pixels(axes[lo]['displacement_pixels'])} pixels, "
                  f"|cos| = {_cos_text(axes[lo]['abs_cos'])}", "Fig. 3E", role="finding", **one)]
    data = {"axes": axes, "reconstruction_drop": drop.to_json()}
    if not moving:
        from numerics.model import spectrum
        from numerics.problems import fig3_problem
        lam_max = float(spectrum(fig3_problem().A).collapse_thresholds[-1])
        return _conclude(result, "Fig. 3E", refuted,
                         f"at beta = {hi:g} the latent units do not move the digit (KL = {kl_hi:.3g}: posterior collapse; "
                         f"for the coordinates themselves the linear theory collapses every unit above lambda_max = "
                         f"1 + max eig(A^T A) = {lam_max:.4g} for Fig. 3's A), so they encode no axes of motion. The beta "
                         f"at which the latents collapse depends on the digit's intensity, which the paper does not state "
                         f"(here: sum of squared pixels {proto.get('digit_energy')})", steps,
                         counterexample={"beta": hi, **big}, figures=figs, data=data)
    if not orthogonal or drop.direction < 0:
        failing = [s.name for s in steps if not s.holds]
        return _conclude(result, "Fig. 3E", refuted, "; ".join(failing) + f" ({drop.text()})", steps,
                         counterexample={"beta": hi, **big, "reconstruction_drop": drop.estimate}, figures=figs,
                         data=data)
    if drop.direction == 0:
        return _conclude(result, "Fig. 3E", not_checked,
                         f"the two units move the digit along near-orthogonal axes at beta = {hi:g} (|cos| = "
                         f"{big['abs_cos']:.2g}), but that reconstruction is worse there than at beta = {lo:g} is "
                         f"{'underpowered' if drop.underpowered else 'undecided'}: {drop.text()}", steps, figures=figs,
                         data=data)
    return _conclude(result, "Fig. 3E", confirmed,
                     f"reconstruction worsens from beta = {lo:g} to {hi:g} ({drop.text()}) and the two units move the "
                     f"digit along near-orthogonal axes (|cos| = {big['abs_cos']:.2g})", steps, figures=figs, data=data)
