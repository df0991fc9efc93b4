"""Figs. 2 and 3 as the paper draws them: quantities against ln beta, mean (solid) with the minimum and
maximum over realisations (dashed), a vertical dashed line at the extremum (ELBO's maximum, TIE's
minimum). The comparison line (dash-dot, dark grey) is the exact optimum of the linear beta-VAE on each network's
own training set (:mod:`deep.betavae.yardstick`), averaged over realisations: what a perfectly trained linear network
reaches on the same data; dotted light grey: the population optimum of Section IV.B for the same A (p(x) itself).
Panel B adds the networks' TIE on fresh data (orange).
Fig. 3 adds panel E, the latent traversals. Files are written atomically (temp file + rename).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from numerics.artifacts import save_figure

PANELS = (("A", "ELBO", "elbo", np.argmax), ("B", "TIE (gauge-aligned)", "tie", np.argmin),
          ("C", "reconstruction objective", "reconstruction", None), ("D", "KL (cond. independence loss)", "kl", None))


def _draw_curves(axes, result) -> None:
    ln_beta = np.log(result.betas)
    order = np.argsort(ln_beta)
    ln_beta = ln_beta[order]
    for ax, (letter, label, name, pick) in zip(axes, PANELS):
        values = getattr(result, name)[:, order]
        mean = values.mean(0)
        ax.plot(ln_beta, mean, color="C0", lw=1.6, marker="o", ms=3, label="mean")
        ax.plot(ln_beta, values.min(0), color="C0", lw=0.9, ls="--", label="min / max")
        ax.plot(ln_beta, values.max(0), color="C0", lw=0.9, ls="--")
        sample = (getattr(result, "linear_optimum", None) or {}).get(name)
        if sample is not None:
            ax.plot(ln_beta, np.asarray(sample)[:, order].mean(0), color="0.25", lw=1.1, ls="-.",
                    label="linear optimum, same training set")
        reference = result.reference.get(name)
        if reference is not None:
            ax.plot(ln_beta, np.asarray(reference)[order], color="0.6", lw=1.0, ls=":", label="linear optimum, p(x)")
        if name == "tie" and getattr(result, "tie_fresh", None) is not None:
            ax.plot(ln_beta, result.tie_fresh[:, order].mean(0), color="C1", lw=1.0, marker=".", ms=3,
                    label="mean, fresh data")
        if pick is not None:
            ax.axvline(ln_beta[int(pick(mean))], color="0.3", lw=0.9, ls="--")
        ax.set_xlabel(r"$\ln\beta$")
        ax.set_title(f"({letter}) {label}", fontsize=10)
    axes[1].legend(fontsize=7)


def _caption(result, width: int = 140) -> str:
    p = result.protocol
    alignment = "exact" if result.shape()["alignment_exact"] else "heuristic (upper bound)"
    if getattr(result, "converged", None) is not None and p.get("stopping"):
        budget = (f"trained until converged ({int(result.converged.sum())} of {result.converged.size} runs; "
                  f"{int(result.epochs_run.min())}-{int(result.epochs_run.max())} epochs)")
    else:
        budget = f"{p['epochs']} epochs"
    text = (f"{p['name']}: {len(result.seeds)} realisations x {len(result.betas)} betas, {budget} over "
            f"{p['examples']} examples, batch {p['batch_size']}, k = {p['k']}, {p['mc_samples']} MC samples; "
            f"TIE alignment {alignment}; terms averaged over "
            f"{'the training set' if p['eval_on'] == 'train' else 'a fresh sample from p(x)'}")
    return textwrap.fill(text, width)


def _save(fig, path: Path) -> Path:
    return save_figure(fig, path, dpi=110)


def plot_fig2(result, path) -> Path:
    """Fig. 2, panels A-D, written to ``path`` (PNG unless the suffix says otherwise)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(2, 2, figsize=(10, 7.5))
    _draw_curves(grid.ravel(), result)
    fig.suptitle("Fig. 2 reproduced: deep beta-VAE on x = A s + eta (digit images as columns of A)\n"
                 + _caption(result), fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_fig3(result, path) -> Path:
    """Fig. 3, panels A-D and the traversals of panel E, written to ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_trav = len(result.traversal_betas)
    fig = plt.figure(figsize=(14, 8))
    grid = fig.add_gridspec(2, max(4, 2 * n_trav), height_ratios=(1.0, 1.05))
    axes = [fig.add_subplot(grid[0, i]) for i in range(4)]
    _draw_curves(axes, result)
    columns = max(4, 2 * n_trav) // n_trav
    for t, beta in enumerate(result.traversal_betas):
        ax = fig.add_subplot(grid[1, t * columns:(t + 1) * columns])
        rows = result.traversal[t]                                     # (k, steps, side, side)
        side = rows.shape[-1]
        pad = 1
        mosaic = np.full((rows.shape[0] * (side + pad) - pad, rows.shape[1] * (side + pad) - pad), np.nan)
        for i in range(rows.shape[0]):
            for s in range(rows.shape[1]):
                mosaic[i * (side + pad):i * (side + pad) + side, s * (side + pad):s * (side + pad) + side] = rows[i, s]
        ax.imshow(mosaic, cmap="gray_r", interpolation="nearest", vmin=min(0.0, np.nanmin(mosaic)),
                  vmax=np.nanmax(mosaic))
        ax.set_yticks([i * (side + pad) + side / 2 for i in range(rows.shape[0])])
        ax.set_yticklabels([f"neuron {i + 1}" for i in range(rows.shape[0])])
        ax.set_xticks([s * (side + pad) + side / 2 for s in range(rows.shape[1])])
        ax.set_xticklabels([f"{v:.2g}" for v in result.traversal_values], fontsize=7)
        ax.set_xlabel("value of the varied neuron (the other held at 0)", fontsize=8)
        ax.set_title(f"(E) traversal, beta = {beta:g} (realisation 0)", fontsize=10)
    fig.suptitle("Fig. 3 reproduced: one digit on a blank canvas at x = A s + eta, A = 2 I + 0.73\n"
                 + _caption(result), fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
