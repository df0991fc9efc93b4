"""Claims checked with trained networks: Fig. 2 (Section V), Fig. 3 (Appendix C) and the trained linear
model of Section IV.B against the closed form.

Trends are judged against the spread across seeds: a change between consecutive betas counts as an
increase only when it exceeds twice the standard error of the seed-paired differences (the deep runs
use common random numbers: realisation s has the same initialisation and noise at every beta), plus a
relative tolerance of 1e-9. A verdict says what the runs show at the protocol that was run, and the
protocol is reported with it.

>>> import numpy as np
>>> t = trend(np.array([1.0, 2.0, 4.0]), np.array([[3.0, 2.0, 1.0], [3.2, 2.1, 0.9]]))
>>> t.significant_increases, t.overall_change < 0
([], True)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .outcome import Step, confirmed, not_checked, qualified, refuted


@dataclass(frozen=True)
class Trend:
    betas: np.ndarray
    mean: np.ndarray
    se: np.ndarray
    significant_increases: list       # (beta_i, beta_{i+1}, increase, threshold)
    significant_decreases: list
    overall_change: float             # mean at the last beta - mean at the first
    overall_significant: bool


def trend(betas, values) -> Trend:
    """Consecutive changes of the seed-mean of ``values`` (n_seeds x n_betas) along ``betas``."""
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    mean = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(values.shape[1])
    inc, dec = [], []
    for i in range(len(betas) - 1):
        d = mean[i + 1] - mean[i]
        thr = paired_threshold(values[:, i + 1] - values[:, i], mean[i])
        if d > thr:
            inc.append((float(betas[i]), float(betas[i + 1]), float(d), float(thr)))
        elif d < -thr:
            dec.append((float(betas[i]), float(betas[i + 1]), float(d), float(thr)))
    thr_all = paired_threshold(values[:, -1] - values[:, 0], mean[0])
    return Trend(np.asarray(betas, float), mean, se, inc, dec, float(mean[-1] - mean[0]),
                 bool(abs(mean[-1] - mean[0]) > thr_all))


def paired_threshold(differences, scale) -> float:
    """Twice the standard error of the mean of per-seed differences, plus a 1e-9 relative floor."""
    differences = np.asarray(differences, dtype=float)
    n = differences.size
    se = differences.std(ddof=1) / np.sqrt(n) if n > 1 else 0.0
    return float(2 * se + 1e-9 * max(1.0, abs(scale)))


def _table(t: Trend) -> str:
    return ", ".join(f"{b:.3g}: {m:.5g}±{s:.2g}" for b, m, s in zip(t.betas, t.mean, t.se))


def _protocol(result) -> dict:
    return dict(result.protocol) if isinstance(result.protocol, dict) else {"protocol": str(result.protocol)}


def _measured(result, networks: str | None = None) -> dict:
    """The grade of a step read off trained networks: how many, how long, at which protocol (``networks``: the
    ones the step looks at, when not every seed at every beta)."""
    p = _protocol(result)
    networks = networks or f"{len(result.seeds)} seed(s) per beta x {len(result.betas)} betas"
    epochs = p.get("epochs")
    budget = (f"{epochs} epochs each (a fixed budget; convergence not tested)" if epochs is not None
              else "training length not recorded")
    return dict(grade="measured", basis=f"{networks}, {budget}, protocol '{p.get('name', p.get('protocol', '?'))}'")


def _figure(ctx, name, result, plotter):
    path = ctx.figure_path(name)
    if path is not None and name not in ctx._memo:
        plotter(result, path)
        ctx._memo[name] = path
    return (name,) if path is not None else ()


def _decreasing(ctx, which: str, quantity: str, label: str, where: str):
    result = ctx.fig2() if which == "fig2" else ctx.fig3()
    from deep.betavae import plots
    figs = _figure(ctx, f"{which}.png", result, plots.plot_fig2 if which == "fig2" else plots.plot_fig3)
    t = trend(result.betas, getattr(result, quantity))
    graded = _measured(result)
    steps = [Step(f"{label}: seed-mean along beta", not t.significant_increases,
                  f"{_table(t)}; significant increases: {t.significant_increases or 'none'}", where, **graded),
             Step(f"{label}: overall decrease from the smallest to the largest beta", t.overall_change < 0 and t.overall_significant,
                  f"change {t.overall_change:.5g}", where, **graded)]
    proto = _protocol(result)
    if t.significant_increases:
        b1, b2, d, thr = t.significant_increases[0]
        return refuted(f"{label} increases from beta = {b1:.3g} to {b2:.3g} by {d:.4g} (> 2 SE = {thr:.3g})", steps,
                       counterexample={"beta1": b1, "beta2": b2, "increase": d, "threshold": thr},
                       protocol=proto, figures=figs)
    if not (t.overall_change < 0 and t.overall_significant):
        return not_checked(f"{label}: no significant change across the beta grid at this protocol "
                           f"({_table(t)})", steps, protocol=proto, figures=figs)
    return confirmed(f"{label} decreases with beta, no increase beyond seed noise ({_table(t)})", steps,
                     protocol=proto, figures=figs)


def _elbo_near_one(ctx, which: str, where: str):
    result = ctx.fig2() if which == "fig2" else ctx.fig3()
    from deep.betavae import plots
    figs = _figure(ctx, f"{which}.png", result, plots.plot_fig2 if which == "fig2" else plots.plot_fig3)
    t = trend(result.betas, result.elbo)
    i = int(np.argmax(t.mean))
    b_max = float(t.betas[i])
    near = 0.5 <= b_max <= 2.0
    after = trend(t.betas[i:], np.asarray(result.elbo)[:, i:]) if i < len(t.betas) - 1 else None
    graded = _measured(result)
    steps = [Step("the seed-mean ELBO is largest at a beta in [0.5, 2]", near, f"argmax beta = {b_max:.3g}; {_table(t)}", where,
                  **graded),
             Step("ELBO decreases beyond its maximum", after is None or not after.significant_increases,
                  f"increases beyond: {after.significant_increases if after else 'none'}", where, **graded)]
    proto = _protocol(result)
    if not near:
        return refuted(f"ELBO is largest at beta = {b_max:.3g}, not around 1", steps,
                       counterexample={"argmax_beta": b_max, "mean_elbo": t.mean.tolist()}, protocol=proto, figures=figs)
    if after is not None and after.significant_increases:
        return qualified(f"ELBO peaks at beta = {b_max:.3g} but does not decrease monotonically beyond", steps,
                         condition="peak near 1 only", protocol=proto, figures=figs)
    return confirmed(f"the seed-mean ELBO is largest at beta = {b_max:.3g} and decreases beyond", steps,
                     protocol=proto, figures=figs)


def _interior_minimum(betas, tie, statistic):
    """(curve, argmin, interior, ends above the minimum beyond seed noise) of the seed-mean or seed-minimum TIE."""
    t = trend(betas, tie)
    curve = t.mean if statistic == "mean" else tie.min(axis=0)
    i = int(np.argmin(curve))
    interior = 0 < i < len(t.betas) - 1
    if statistic == "mean":
        thr = lambda j: paired_threshold(tie[:, j] - tie[:, i], curve[i])   # noqa: E731
    else:   # a minimum over seeds has no paired spread: require the ends to exceed it by 2 SE of the seeds
        thr = lambda j: 2 * np.hypot(t.se[i], t.se[j]) + 1e-9 * max(1.0, abs(curve[i]))   # noqa: E731
    ends_higher = bool(interior and curve[0] - curve[i] > thr(0) and curve[-1] - curve[i] > thr(-1))
    return t, curve, i, interior, ends_higher


def _tie_optimum(ctx, which: str, where: str, statistic: str = "mean"):
    result = ctx.fig2() if which == "fig2" else ctx.fig3()
    from deep.betavae import plots
    figs = _figure(ctx, f"{which}.png", result, plots.plot_fig2 if which == "fig2" else plots.plot_fig3)
    tie = np.asarray(result.tie, dtype=float)
    t, curve, i, interior, ends_higher = _interior_minimum(result.betas, tie, statistic)
    b_opt = float(t.betas[i])
    label = "seed-mean TIE" if statistic == "mean" else "minimum TIE over seeds"
    graded = _measured(result)
    steps = [Step(f"the {label} is smallest strictly inside the beta grid", interior,
                  f"argmin beta = {b_opt:.3g}; " + ", ".join(f"{b:.3g}: {v:.5g}" for b, v in zip(t.betas, curve)), where,
                  **graded),
             Step("both ends of the grid are above the minimum beyond seed noise", bool(ends_higher),
                  f"TIE(first) - min = {curve[0] - curve[i]:.4g}, TIE(last) - min = {curve[-1] - curve[i]:.4g}", where,
                  **graded),
             Step("gauge alignment of every TIE value", True, _alignment_note(result), where, role="finding", **graded)]
    proto = _protocol(result)
    if not interior:
        return refuted(f"the {label} is smallest at the edge of the beta grid (beta = {b_opt:.3g}): no interior optimum",
                       steps, counterexample={"argmin_beta": b_opt, "curve": curve.tolist()}, protocol=proto, figures=figs)
    if not ends_higher:
        return not_checked(f"the {label} has its minimum at beta = {b_opt:.3g}, but the ends are within seed noise of it "
                           "at this protocol", steps, protocol=proto, figures=figs)
    vae = " (the plain VAE: no beta != 1 on this grid improves TIE at this protocol)" if abs(b_opt - 1) < 1e-12 else ""
    found = f"the {label} (latents aligned to the sources) is non-monotone with an optimal beta = {b_opt:.3g} inside the grid{vae}"
    raw = getattr(result, "tie_identity", None)
    if raw is None:
        return confirmed(found + "; the TIE of the latents as trained was not reported by the run", steps,
                         protocol=proto, figures=figs, data={"optimal_beta": b_opt})
    # TIE (3) compares z with s as they are; a trained network's latents carry an arbitrary signed permutation
    # (the objective cannot tell), so the claim is judged as the paper states it too, on the unaligned TIE.
    _, raw_curve, j, raw_interior, raw_ends = _interior_minimum(result.betas, np.asarray(raw, dtype=float), statistic)
    holds_raw = bool(raw_interior and raw_ends)
    steps.append(Step(f"the {label} of the latents as trained (no alignment: TIE (3) as written) has an interior "
                      "optimum beyond seed noise", holds_raw,
                      f"argmin beta = {float(t.betas[j]):.3g}; " + ", ".join(
                          f"{b:.3g}: {v:.5g}" for b, v in zip(t.betas, raw_curve)), where, **graded))
    if holds_raw:
        return confirmed(found + f"; so is the TIE of the latents as trained (optimum beta = {float(t.betas[j]):.3g})",
                         steps, protocol=proto, figures=figs, data={"optimal_beta": b_opt})
    return qualified(found + ". Without the alignment, the TIE of the latents as trained (eq. 3 as written, z compared "
                     f"with s as they are) has no interior optimum: its {label} is smallest at beta = "
                     f"{float(t.betas[j]):.3g} (" + ", ".join(f"{b:.3g}: {v:.5g}" for b, v in zip(t.betas, raw_curve))
                     + ")", steps, condition="TIE is evaluated with the trained latents aligned to the sources (the "
                     "signed permutation of z that minimises TIE); the objective cannot distinguish the equally "
                     "optimal relabellings, and the paper does not say how it matched z to s",
                     protocol=proto, figures=figs, data={"optimal_beta": b_opt})


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
    return _decreasing(ctx, "fig2", "reconstruction", "the reconstruction objective", "Fig. 2C")


def check_fig2_kl(ctx):
    return _decreasing(ctx, "fig2", "kl", "the conditional independence loss", "Fig. 2D")


# ------------------------------------------------------------------------------ Fig. 3
def check_fig3_elbo(ctx):
    return _elbo_near_one(ctx, "fig3", "Fig. 3A")


def check_fig3_tie(ctx):
    return _tie_optimum(ctx, "fig3", "Fig. 3B", statistic="min")


def check_fig3_reconstruction(ctx):
    return _decreasing(ctx, "fig3", "reconstruction", "the reconstruction objective", "Fig. 3C")


def check_fig3_kl(ctx):
    return _decreasing(ctx, "fig3", "kl", "the conditional independence loss", "Fig. 3D")


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
    result = ctx.fig3()
    from deep.betavae import plots
    figs = _figure(ctx, "fig3.png", result, plots.plot_fig3)
    proto = _protocol(result)
    betas = np.asarray(result.betas, dtype=float)
    recon = np.asarray(result.reconstruction, dtype=float)
    lo, hi = float(result.traversal_betas[0]), float(result.traversal_betas[-1])
    i_lo, i_hi = int(np.argmin(abs(np.log(betas / lo)))), int(np.argmin(abs(np.log(betas / hi))))
    drop = float(recon[:, i_lo].mean() - recon[:, i_hi].mean())
    thr = paired_threshold(recon[:, i_lo] - recon[:, i_hi], recon[:, i_lo].mean())
    axes = {float(b): traversal_axes(result.traversal[j]) for j, b in enumerate(result.traversal_betas)}
    big = axes[hi]
    moving = all(d is not None and d > moving_pixels for d in big["displacement_pixels"])
    orthogonal = moving and big["abs_cos"] is not None and big["abs_cos"] < orthogonal_cos
    kl_hi = float(np.asarray(result.kl)[:, i_hi].mean())
    one = _measured(result, f"one network (the first realisation) at each of beta = {lo:g}, {hi:g}")
    steps = [Step(f"reconstruction worse at beta = {hi:g} than at beta = {lo:g}", drop > thr,
                  f"mean drop {drop:.4g} (2 SE = {thr:.3g})", "Fig. 3E", **_measured(result)),
             Step(f"at beta = {hi:g} both units move the digit (> {moving_pixels} pixel over the traversal)", moving,
                  f"displacements {_pixels(big['displacement_pixels'])} pixels; KL there {kl_hi:.3g}",
                  "Fig. 3E", **one),
             Step(f"at beta = {hi:g} the two axes of motion are orthogonal (|cos| < {orthogonal_cos})", orthogonal,
                  f"|cos| = {_cos_text(big['abs_cos'])}", "Fig. 3E", **one),
             Step(f"at beta = {lo:g}: axes of motion", True,
                  f"displacements {_pixels(axes[lo]['displacement_pixels'])} pixels, "
                  f"|cos| = {_cos_text(axes[lo]['abs_cos'])}", "Fig. 3E", role="finding", **one)]
    data = {"axes": axes, "reconstruction_drop": drop}
    if not moving:
        from numerics.model import spectrum
        from numerics.problems import fig3_problem
        lam_max = float(spectrum(fig3_problem().A).collapse_thresholds[-1])
        return refuted(f"at beta = {hi:g} the latent units do not move the digit (KL = {kl_hi:.3g}: posterior collapse; "
                       f"for the coordinates themselves the linear theory collapses every unit above lambda_max = "
                       f"1 + max eig(A^T A) = {lam_max:.4g} for Fig. 3's A), so they encode no axes of motion. The beta "
                       f"at which the latents collapse depends on the digit's intensity, which the paper does not state "
                       f"(here: sum of squared pixels {proto.get('digit_energy')})", steps,
                       counterexample={"beta": hi, **big}, protocol=proto, figures=figs, data=data)
    if not orthogonal or drop <= thr:
        failing = [s.name for s in steps if not s.holds]
        return refuted("; ".join(failing), steps, counterexample={"beta": hi, **big, "reconstruction_drop": drop},
                       protocol=proto, figures=figs, data=data)
    return confirmed(f"reconstruction worsens from beta = {lo:g} to {hi:g} and the two units move the digit along "
                     f"near-orthogonal axes (|cos| = {big['abs_cos']:.2g})", steps, protocol=proto, figures=figs,
                     data=data)
