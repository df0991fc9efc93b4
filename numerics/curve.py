"""beta-curves of every quantity at the optimum (Fig. 1 and the log-likelihood the paper only describes).

The eigen-data of A^T A is computed once (O(N k^2)); each beta then costs O(k^3) (the gauge
alignment), so N = 100,000 with k = 32 is as cheap as the paper's problem.

>>> import numpy as np
>>> c = beta_curve(np.eye(3, 2) * 2, [0.5, 1.0])
>>> [abs(round(r["mie"], 6)) for r in c.to_json()]      # MIE vanishes at beta = 1
[0.188746, 0.0]
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artifacts import save_figure
from .model import Spectrum, Terms, spectrum
from .optimum import terms_at

FIELDS = ("beta", "reconstruction", "kl", "elbo", "log_likelihood", "mie", "tie")


@dataclass(frozen=True)
class Curve:
    """The terms at the optimum for each beta; :meth:`to_json` is the ``curve --json`` document (one row per beta)."""

    betas: np.ndarray
    terms: tuple[Terms, ...]
    collapse_thresholds: np.ndarray     # beta = 1 + a_j, where unit j collapses

    def to_json(self) -> list[dict]:
        return [{**{f: getattr(t, f) for f in FIELDS}, "objective": t.objective,
                 "alignment": {"permutation": list(t.permutation), "signs": list(t.signs)}} for t in self.terms]

    def column(self, name: str) -> np.ndarray:
        return np.array([getattr(t, name) for t in self.terms])


def parse_betas(text: str) -> np.ndarray:
    """'0.1,1,5' -> array; every value must be a finite number > 0."""
    try:
        values = [float(v) for v in text.split(",") if v.strip() != ""]
    except ValueError:
        raise ValueError(f"expected comma-separated numbers, got '{text}'") from None
    return _valid_betas(values, text)


def parse_grid(text: str, *, geometric: bool = False) -> np.ndarray:
    """'LO:HI:N' -> N values from LO to HI (inclusive), evenly or geometrically spaced."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"expected LO:HI:N, got '{text}'")
    try:
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise ValueError(f"expected LO:HI:N with numbers and an integer N, got '{text}'") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0 or hi <= 0:
        raise ValueError(f"LO and HI must be finite and > 0, got '{text}'")
    if hi < lo:
        raise ValueError(f"HI must be >= LO, got '{text}'")
    if not 1 <= n <= 1_000_000:
        raise ValueError(f"N must be between 1 and 1000000, got {n}")
    return np.geomspace(lo, hi, n) if geometric else np.linspace(lo, hi, n)


def _valid_betas(values, text) -> np.ndarray:
    if not values:
        raise ValueError("no beta given")
    for v in values:
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"beta must be a finite number > 0, got {v} in '{text}'")
    return np.asarray(values, dtype=float)


def beta_curve(A, betas) -> Curve:
    spec = A if isinstance(A, Spectrum) else spectrum(A)
    betas = np.asarray(betas, dtype=float)
    floor = spec.smallest_safe_beta
    if betas.size and float(np.min(betas)) < floor:
        raise ValueError(f"beta = {float(np.min(betas)):.3g} is below {floor:.3g} = lambda_max * 2^-1000, where "
                         "ln(lambda/beta) nears the float64 overflow; use a larger beta")
    return Curve(betas=betas, terms=tuple(terms_at(spec, float(b)) for b in betas),
                 collapse_thresholds=spec.collapse_thresholds)


def plot_curve(curve: Curve, path: str | Path, title: str = "") -> Path:
    """Fig. 1 panels A-D (ELBO, MIE/TIE, reconstruction, KL) plus E (log-likelihood), atomically to ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, grid = plt.subplots(2, 3, figsize=(13, 7))
    axes = grid.ravel()
    axes[-1].axis("off")
    panels = [("A", "ELBO", ["elbo"]), ("B", "inference error", ["mie", "tie"]),
              ("C", "reconstruction objective", ["reconstruction"]), ("D", "conditional independence loss (KL)", ["kl"]),
              ("E", "data log-likelihood", ["log_likelihood"])]
    for ax, (letter, label, names) in zip(axes, panels):
        for name in names:
            ax.plot(curve.betas, curve.column(name), label=name.upper() if name in ("mie", "tie") else None)
        for t in curve.collapse_thresholds:
            if curve.betas.min() <= t <= curve.betas.max():
                ax.axvline(t, color="0.7", lw=0.8, ls=":")
        if curve.betas.min() <= 1.0 <= curve.betas.max():
            ax.axvline(1.0, color="0.4", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlabel(r"$\beta$")
        ax.set_title(f"({letter}) {label}", fontsize=10)
        if len(names) > 1:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)
