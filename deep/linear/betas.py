"""Which betas a cross-check trains at: around 1 and the collapse thresholds, never on one.

The optimum of the linear model changes character at beta = 1 and at every collapse threshold
beta = lambda_i = 1 + a_i (a_i the eigenvalues of A^T A: ``numerics.model.spectrum(A).collapse_thresholds``),
where unit i collapses; on a threshold it is degenerate (the collapsing unit is flat to quartic order)
and training converges slowly. So the betas bracket 1 and each threshold (:func:`default_betas`), path (b)
runs on a subset of them (:func:`sampled_betas`), and :func:`near_threshold` names user betas that sit on one.
Every function takes ``A`` as a mixing matrix (the paper's model) or a :class:`deep.linear.metrics.LinearData`, whose
thresholds are lambda_i / sigma_d^2 (:func:`deep.linear.metrics.collapse_thresholds`).

>>> import numpy as np
>>> A = 0.5 * (np.ones((128, 2)) + np.eye(128, 2))        # the paper's problem
>>> default_betas(A, reduced=True)
(0.5, 1.08696, 1.4375, 9.10014, 76.1875)
>>> sampled_betas(default_betas(A, reduced=True), A)
(0.5, 1.4375, 9.10014)
"""
from __future__ import annotations

import math

import numpy as np

from .metrics import collapse_thresholds


def default_betas(A, *, reduced: bool = False, margin: float = 1.15, max_thresholds: int = 6) -> tuple[float, ...]:
    """Betas on both sides of 1 and of every collapse threshold t (t / margin and t * margin), none on one.

    Between two thresholds more than a factor 4 apart their geometric mean is added. Values within
    5% of a threshold are dropped (there the optimum is degenerate and convergence slow). For many
    thresholds only ``max_thresholds`` of them, spread over the range, are bracketed. ``reduced``
    keeps five: below 1, just above 1 and below the first threshold, just above it, a middle value
    and beyond the last threshold (the audit's plan).
    """
    t_all = collapse_thresholds(A)
    if not len(t_all):
        return (0.5, 1.0, 2.0)          # every unit is collapsed at every beta > 0 (Sigma_x's top k eigenvalues are 0)
    t = t_all
    if len(t) > max_thresholds:
        t = t[np.unique(np.round(np.linspace(0, len(t) - 1, max_thresholds)).astype(int))]
    near = lambda b: np.any(np.abs(b / t_all - 1) < 0.05)      # noqa: E731
    first, last = float(t[0]), float(t[-1])
    if reduced:
        below_first = first / margin if first / margin > 1.0 else math.sqrt(first)
        cands = [0.5, below_first, first * margin, math.sqrt(first * last) if last > 4 * first else None,
                 last * margin]
    else:
        cands = [0.5, 1.0]
        for x in t:
            cands += [x / margin, x * margin]
        for lo, hi in zip(t[:-1], t[1:]):
            if hi > 4 * lo:
                cands.append(math.sqrt(lo * hi))
    out = []
    for b in sorted(c for c in cands if c is not None and c > 0):
        if near(b) or any(abs(b / o - 1) < 0.02 for o in out):
            continue
        out.append(float(f"{b:.6g}"))
    return tuple(out)


def sampled_betas(betas, A) -> tuple[float, ...]:
    """Path (b)'s subset: the smallest beta, the first one above the first threshold, and the one
    closest (in log beta) to the geometric mean of that one and the largest."""
    betas = sorted(betas)
    t = collapse_thresholds(A)
    first = float(t[0]) if len(t) else betas[-1]
    above = [b for b in betas if b > first] or [betas[-1]]
    rest = [b for b in betas if b > above[0]]
    picks = [betas[0], above[0]]
    if rest:
        mid = math.sqrt(above[0] * betas[-1])
        picks.append(min(rest, key=lambda b: abs(math.log(b / mid))))
    return tuple(sorted(set(picks)))


def near_threshold(betas, A, rel: float = 1e-3) -> tuple[float, ...]:
    """The betas within ``rel`` of a collapse threshold (degenerate optimum, slow convergence)."""
    t = collapse_thresholds(A)
    return tuple(b for b in betas if np.any(np.abs(b / t - 1) <= rel))


def checked_betas(betas) -> tuple[float, ...]:
    """``betas`` as floats, or ValueError when there is none or one is not a finite number > 0."""
    out = tuple(float(b) for b in betas)
    if not out:
        raise ValueError("no beta given")
    for b in out:
        if not math.isfinite(b) or b <= 0:
            raise ValueError(f"beta must be a finite number > 0, got {b}")
    return out


def plan_betas(rule, A) -> tuple[float, ...]:
    """A plan's betas: ``"thresholds"`` (:func:`default_betas`), ``"reduced"`` (its five) or explicit values."""
    if isinstance(rule, str):
        if rule not in ("thresholds", "reduced"):
            raise ValueError(f"betas must be 'thresholds', 'reduced' or numbers, got '{rule}'")
        return default_betas(A, reduced=rule == "reduced")
    return checked_betas(rule)


def plan_sampled_betas(rule, betas, A) -> tuple[float, ...]:
    """Path (b)'s betas: ``"subset"`` (:func:`sampled_betas` of ``betas``), ``"all"`` or explicit values."""
    if isinstance(rule, str):
        if rule not in ("subset", "all"):
            raise ValueError(f"sampled_betas must be 'subset', 'all' or numbers, got '{rule}'")
        return tuple(betas) if rule == "all" else sampled_betas(betas, A)
    return checked_betas(rule)
