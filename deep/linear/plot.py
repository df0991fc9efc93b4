"""Figure of the cross-check: trained networks (both paths) against the closed form along beta.

Panels: the spectrum of D^T D, Sigma_z = exp(b_sigma), ELBO, reconstruction, KL, log-likelihood,
MIE and TIE (the closed form as lines over a dense beta grid; path (a) as circles, path (b) as
crosses), and the relative errors of every record. Written atomically (temp file + os.replace). ``A``: a mixing
matrix (the paper's model) or a :class:`deep.linear.metrics.LinearData` (the general closed form; no TIE line
without sources).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from numerics.curve import beta_curve
from numerics.artifacts import save_figure
from numerics.optimum import closed_form_optimum, unit_parameters

from .metrics import LinearData


def plot_crosscheck(result, A, path, title: str = "") -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    betas = sorted({r.beta for r in result.records})
    lo, hi = min(betas + [1.0]) / 1.5, max(betas + [1.0]) * 1.5
    grid = np.geomspace(lo, hi, 300)
    general = isinstance(A, LinearData) and not A.is_paper_model
    if general:
        data = A.data_spectrum()
        curve = beta_curve(data, grid, A.variances)
        units = [unit_parameters(data, b, A.variances) for b in grid]
        d2 = np.array([u.decoder_gain ** 2 for u in units])
        var_z = np.array([u.encoder_std ** 2 for u in units])
        has_tie = A.mixing is not None
    else:
        A = A.mixing if isinstance(A, LinearData) else A
        curve = beta_curve(A, grid)
        d2 = np.array([closed_form_optimum(A, b).d2 for b in grid])
        var_z = grid[:, None] / (grid[:, None] + d2)
        has_tie = True
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5))
    axes = axes.ravel()
    style = {"exact": dict(marker="o", mfc="none", ms=7, ls="none", color="C3", label="path (a): exact objective"),
             "sampled": dict(marker="x", ms=7, ls="none", color="C2", label="path (b): samples, Adam")}

    def points(quantity, index=None):
        for kind in ("exact", "sampled"):
            recs = result.by_path(kind)
            if not recs:
                continue
            xs = [r.beta for r in recs]
            ys = [r.comparisons[quantity].trained if index is None else r.comparisons[quantity].trained[index]
                  for r in recs]
            yield kind, xs, ys

    ax = axes[0]
    for i in range(d2.shape[1]):
        ax.plot(grid, d2[:, i], color="0.3", lw=1, label="closed form" if i == 0 else None)
        for kind, xs, ys in points("dtd_eigenvalues", i):
            ax.plot(xs, ys, **{**style[kind], "label": style[kind]["label"] if i == 0 else None})
    ax.set_yscale("symlog", linthresh=1e-2)
    ax.set_title(r"(A) spectrum of $D^TD$ ($d_i^2$)", fontsize=10)
    ax.legend(fontsize=7)
    ax = axes[1]
    for i in range(d2.shape[1]):
        ax.plot(grid, var_z[:, i], color="0.3", lw=1)
        for kind, xs, ys in points("sigma_z", i):
            ax.plot(xs, ys, **{**style[kind], "label": None})
    ax.set_title(r"(B) $\Sigma_z = e^{b_\sigma}$ vs $\sigma_p^2\beta'/(\beta'+\tilde d_i^2)$" if general else
                 r"(B) $\Sigma_z = e^{b_\sigma}$ vs $\beta/(\beta+d_i^2)$", fontsize=10)
    for ax, (letter, name, label) in zip(axes[2:7], [("C", "elbo", "ELBO"), ("D", "reconstruction", "reconstruction"),
                                                    ("E", "kl", "KL"), ("F", "log_likelihood", "log-likelihood"),
                                                    ("G", "mie", "MIE and TIE")]):
        names = [name] if name != "mie" else ["mie", "tie"] if has_tie else ["mie"]
        for nm in names:
            ax.plot(grid, curve.column(nm), lw=1, color="0.3" if nm != "tie" else "0.6",
                    label=f"closed form {nm.upper()}" if name == "mie" else None)
            for kind, xs, ys in points(nm):
                ax.plot(xs, ys, **{**style[kind], "label": None})
        ax.set_title(f"({letter}) {label}", fontsize=10)
        if name == "mie":
            ax.legend(fontsize=7)
    ax = axes[7]
    for kind in ("exact", "sampled"):
        recs = result.by_path(kind)
        if recs:
            ax.plot([r.beta for r in recs], [max(r.max_relative_error, 1e-17) for r in recs], **style[kind])
    ax.set_yscale("log")
    ax.set_title("(H) max relative error per run", fontsize=10)
    ax.legend(fontsize=7)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel(r"$\beta$")
        for t in result.problem.get("collapse_thresholds", []):
            if lo <= t <= hi:
                ax.axvline(t, color="0.75", lw=0.8, ls=":")
        ax.axvline(1.0, color="0.5", lw=0.8, ls="--")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)
