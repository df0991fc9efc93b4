"""beta-curves of every quantity at the optimum (Fig. 1 and the log-likelihood the paper only describes), for the
paper's model or the general one (any data spectrum and variances, :mod:`numerics.optimum`).

The eigen-data is computed once (O(N k^2) for a mixing matrix, one top-k eigen-decomposition for a covariance);
each beta then costs O(k) (per-unit sums) plus O(k^3) for TIE's gauge alignment where there is a truth, so
N = 100,000 with k = 32 is as cheap as the paper's problem. beta = 0 is allowed: the limit beta -> 0+, where KL, MIE
and TIE are infinite (written "inf" in JSON).

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
from .data_spectrum import DataSpectrum
from .model import Spectrum, Terms
from .optimum import UnitParameters, general_terms, unit_parameters
from .variances import UNIT, Variances

FIELDS = ("beta", "reconstruction", "kl", "elbo", "log_likelihood", "mie", "tie")


@dataclass(frozen=True)
class Curve:
    """The terms at the optimum for each beta; :meth:`to_json` is the ``curve --json`` document (one row per beta)."""

    betas: np.ndarray
    terms: tuple[Terms, ...]
    collapse_thresholds: np.ndarray     # beta = lambda_j / sigma_d^2, where unit j collapses (1 + a_j in the paper)
    parameters: tuple[UnitParameters, ...] | None = None    # the optimum unit by unit, when asked for

    def to_json(self) -> list[dict]:
        rows = []
        for i, t in enumerate(self.terms):
            row = {**{f: getattr(t, f) for f in FIELDS}, "objective": t.objective,
                   "alignment": None if t.permutation is None else
                   {"permutation": list(t.permutation), "signs": list(t.signs)}}
            if self.parameters is not None:
                row["parameters"] = self.parameters[i].to_json()
            rows.append(row)
        return rows

    def column(self, name: str) -> np.ndarray:
        return np.array([getattr(t, name) for t in self.terms])


def parse_betas(text: str) -> np.ndarray:
    """'0,0.1,1,5' -> array; every value must be a finite number >= 0 (0: the limit beta -> 0+)."""
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
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0 or hi < 0 or (geometric and lo == 0):
        raise ValueError(f"LO and HI must be finite and {'> 0' if geometric else '>= 0'}, got '{text}'")
    if hi < lo:
        raise ValueError(f"HI must be >= LO, got '{text}'")
    if not 1 <= n <= 1_000_000:
        raise ValueError(f"N must be between 1 and 1000000, got {n}")
    return np.geomspace(lo, hi, n) if geometric else np.linspace(lo, hi, n)


def _valid_betas(values, text) -> np.ndarray:
    if not values:
        raise ValueError("no beta given")
    for v in values:
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"beta must be a finite number >= 0, got {v} in '{text}'")
    return np.asarray(values, dtype=float)


def beta_curve(data, betas, variances: Variances = UNIT, *, parameters: bool = False) -> Curve:
    """The terms at the optimum for each beta. ``data``: a DataSpectrum, a unit-noise Spectrum of A^T A, or a mixing
    matrix A (the paper's Sigma_x = A A^T + I); ``parameters``: also the optimum unit by unit."""
    if isinstance(data, Spectrum):
        spec = data
        data = DataSpectrum(lam=1.0 + spec.a, tail=float(spec.N - spec.k), N=spec.N, k=spec.k, mixing=spec, noise=1.0)
    elif not isinstance(data, DataSpectrum):
        data = DataSpectrum.from_mixing(data, noise=variances.noise)
    betas = np.asarray(betas, dtype=float)
    # ln(lambda / beta') must stay far from the float64 overflow; beta = 0 itself is the stated limit
    floor = float(np.max(data.lam, initial=1.0)) / variances.decoder * 2.0 ** -1000
    positive = betas[betas > 0]
    if positive.size and float(np.min(positive)) < floor:
        raise ValueError(f"beta = {float(np.min(positive)):.3g} is below {floor:.3g} = lambda_max / sigma_d^2 * 2^-1000, "
                         "where ln(lambda/beta) nears the float64 overflow; use a larger beta, or 0 for the limit")
    return Curve(betas=betas, terms=tuple(general_terms(data, float(b), variances) for b in betas),
                 collapse_thresholds=np.sort(data.lam[data.lam > 0]) / variances.decoder,
                 parameters=tuple(unit_parameters(data, float(b), variances) for b in betas) if parameters else None)


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
            values = curve.column(name)
            if any(v is None for v in values):
                continue           # TIE without a ground truth (covariance or spectrum input)
            finite = (curve.betas > 0) & np.isfinite(values.astype(float))   # beta = 0 has no place on a log axis
            ax.plot(curve.betas[finite], values[finite].astype(float),
                    label=name.upper() if name in ("mie", "tie") else None)
        for t in curve.collapse_thresholds:
            if curve.betas.min() <= t <= curve.betas.max() and t > 0:
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
