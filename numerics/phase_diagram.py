"""The TIE-optimal beta over the space of two-source mixing matrices, as a phase diagram.

**Coordinates.** The gauge-aligned TIE at the closed-form optimum (:func:`numerics.optimum.terms_at`) reads A only
through the spectrum of A^T A, so a two-source problem is fixed by its Gram matrix: three numbers, the angle t
between the columns, the ratio r <= 1 of the shorter column's norm to the longer one's, and the **scale**
s = ||a1||^2 + ||a2||^2 = trace(A^T A). :func:`two_source_mixing` realises them with N = 2, a1 = c (1, 0),
a2 = c r (cos t, sin t), c^2 = s / (1 + r^2) (any N: pad with zero rows, the Gram matrix is the same).
Two foldings leave the aligned TIE unchanged: t -> 180 - t gives the Gram matrix of A diag(1, -1) (source 2's sign
flipped: a signed permutation, which the alignment absorbs), and
r -> 1/r at the same s swaps the two columns' norms, i.e. relabels the sources; so t in (0, 90], r in (0, 1]
cover every problem, and :func:`mixing_coordinates` maps any N x 2 matrix into that range.

**Shape of TIE(beta), k = 2** (a1 >= a2 the eigenvalues of A^T A, lambda_j = 1 + a_j, Q its eigenvectors).
A 2 x 2 orthogonal Q has |Q00| = |Q11| and |Q01| = |Q10|, so the best alignment does not depend on beta and the
overlap is m (w1 + w2), m = max(|Q00|, |Q10|) in [1/sqrt 2, 1], w_j = ``mode_tie_weight`` (a_j, beta). Hence:

* TIE' = -n/(2 beta) + (m/2) sum_j sqrt(a_j / (lambda_j - beta)) over the n active units; on (0, 1] each square
  root is < 1, so TIE' < m - 1/beta < 0: TIE decreases there and beta* >= 1;
* on (0, lambda_2] and on [lambda_2, lambda_1] TIE is convex (-log beta and -sqrt(lambda_j - beta) are), and at
  both collapse thresholds its left derivative is +inf, so a kink is never the minimum; beyond lambda_1 it is a
  plateau lying above the values just below lambda_1. So beta* is the lower of the two pieces' minima, each found
  by a grid scan over the piece and bisection on TIE' between the grid minimum's neighbours;
* TIE(1) = (1 - m) s (w_j(1) = a_j), zero exactly for orthogonal columns (Q a signed permutation): there
  beta* = 1 (TIE >= 0 is an average KL divergence) and the gain TIE(1) - TIE(beta*) is 0. At r = 1 every t < 90
  has Q's columns (1, +-1)/sqrt 2 (m = 1/sqrt 2), so beta* jumps at the corner t = 90, r = 1.

>>> d = phase_diagrams(grid=5)
>>> d.ratio_panel.beta_star.shape, float(d.ratio_panel.beta_star[-1, -1]), float(d.ratio_panel.tie_gain[-1, -1])
((5, 5), 1.0, 0.0)
>>> paper = d.landmarks[0]
>>> paper.name, round(paper.angle, 4), paper.ratio, paper.scale, round(paper.beta_star, 12)
('paper', 7.084, 1.0, 65.5, 1.136904371046)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import generated as gen
from .artifacts import save_figure
from .model import as_mixing_matrix, fig3_mixing, paper_mixing
from .optimum import tie_value

__all__ = ["COARSE_GRID", "DEFAULT_GRID", "Landmark", "PhaseDiagram", "PhasePanel", "TwoSourceOptimum",
           "two_source_tie", "two_source_tie_slope", "landmarks", "mixing_coordinates", "phase_diagram", "phase_diagrams",
           "plot_phase_diagram", "scale_diagram", "two_source_gram", "two_source_mixing", "two_source_optimum"]

DEFAULT_GRID = 201        # points per axis of ``phase-diagram`` (~0.5 s of numerics here, ~1 s of plotting)
COARSE_GRID = 41          # the audit report's variant (~0.02 s of numerics)
SCALE_RANGE = (0.1, 1000.0)   # the scale axis of the second panel (log-spaced)
SCAN_POINTS = 64          # grid intervals per convex piece of TIE(beta) before the bisection on its slope
BISECTION_STEPS = 64      # halves each bracket 64 times: below one ulp of beta
BLOCK = 8192              # problems solved together (memory ~ BLOCK x SCAN_POINTS floats per array)


# ------------------------------------------------------------------------------------------------ coordinates
def two_source_gram(angle, ratio, scale) -> np.ndarray:
    """A^T A of :func:`two_source_mixing` (arrays broadcast; shape (..., 2, 2)); angle in degrees."""
    angle, ratio, scale = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (angle, ratio, scale)))
    c2 = scale / (1.0 + ratio ** 2)
    # cos t as sin(90 - t): exactly 0 at t = 90, so orthogonal columns give an exactly diagonal Gram matrix
    off = c2 * ratio * np.sin(np.radians(90.0 - angle))
    return np.stack([np.stack([c2, off], -1), np.stack([off, c2 * ratio ** 2], -1)], -2)


def two_source_mixing(angle: float, ratio: float, scale: float) -> np.ndarray:
    """The 2 x 2 mixing matrix [a1 a2], a1 = c (1, 0), a2 = c r (cos t, sin t), c^2 = scale / (1 + r^2).

    >>> A = two_source_mixing(60.0, 0.5, 5.0)
    >>> n1, n2 = np.linalg.norm(A, axis=0)
    >>> round(float(n1 ** 2 + n2 ** 2), 12), round(float(n2 / n1), 12), round(float(A[:, 0] @ A[:, 1] / (n1 * n2)), 12)
    (5.0, 0.5, 0.5)
    """
    c = np.sqrt(scale / (1.0 + ratio ** 2))
    return np.array([[c, c * ratio * np.sin(np.radians(90.0 - angle))], [0.0, c * ratio * np.sin(np.radians(angle))]])


def mixing_coordinates(A) -> tuple[float, float, float]:
    """(angle in degrees folded into (0, 90], norm ratio <= 1, scale = trace(A^T A)) of an N x 2 matrix.

    >>> [round(x, 6) for x in mixing_coordinates(fig3_mixing())]
    [60.058804, 1.0, 15.9716]
    """
    A = as_mixing_matrix(A)
    if A.shape[1] != 2:
        raise ValueError(f"a two-source problem has 2 columns, got shape {A.shape}")
    n1, n2 = np.linalg.norm(A[:, 0]), np.linalg.norm(A[:, 1])
    if min(n1, n2) == 0.0:
        raise ValueError("a column of A is zero: the angle between the columns is undefined")
    cos = min(abs(float(A[:, 0] @ A[:, 1])) / (n1 * n2), 1.0)
    return float(np.degrees(np.arccos(cos))), float(min(n1, n2) / max(n1, n2)), float(n1 ** 2 + n2 ** 2)


# ------------------------------------------------------------------------------------------------ beta*
def two_source_tie(a, m, beta):
    """Gauge-aligned TIE at the optimum for k = 2: eigenvalues ``a`` (..., 2) descending, overlap factor ``m``
    (...), beta broadcast against them: :func:`numerics.optimum.tie_value` with the k = 2 alignment (the module
    docstring: it does not depend on beta), vectorised over problems and betas.
    """
    a1, a2, beta = a[..., 0], a[..., 1], np.asarray(beta, dtype=float)
    kl = gen.mode_kl(1.0 + a1, beta) + gen.mode_kl(1.0 + a2, beta)
    overlap = m * (gen.mode_tie_weight(a1, beta) + gen.mode_tie_weight(a2, beta))
    return tie_value(a, kl, overlap)


@dataclass(frozen=True, eq=False)
class TwoSourceOptimum:
    """beta*, TIE(beta*) and TIE(1) for a stack of two-source problems (arrays of one shape)."""

    beta_star: np.ndarray
    tie_star: np.ndarray
    tie_at_1: np.ndarray
    active_units: np.ndarray    # units with lambda_j > beta*: 2, or 1 where the weaker unit has collapsed

    @property
    def tie_gain(self) -> np.ndarray:
        """TIE(1) - TIE(beta*): what the best beta gains over the plain VAE."""
        return self.tie_at_1 - self.tie_star


def _spectra(gram):
    """Eigenvalues of the Gram matrices, descending, and the overlap factor m = max(|Q00|, |Q10|)."""
    w, V = np.linalg.eigh(gram)
    return np.clip(w[..., ::-1], 0.0, None), np.maximum(np.abs(V[..., 0, 0]), np.abs(V[..., 1, 0]))


def two_source_tie_slope(a, m, beta):
    """d TIE / d beta of :func:`two_source_tie` off the collapse thresholds: the derivatives of ``mode_kl``
    (-1/(2 beta)) and of ``mode_tie_weight`` (-sqrt(a_j) / (2 sqrt(lambda_j - beta))) over the active units.
    """
    beta = np.asarray(beta, dtype=float)
    out = np.zeros(np.broadcast_shapes(a[..., 0].shape, beta.shape))
    for j in range(2):
        gap = 1.0 + a[..., j] - beta
        active = gap > 0
        out = out + np.where(active, -0.5 / beta + 0.5 * m * np.sqrt(a[..., j] / np.where(active, gap, 1.0)), 0.0)
    return out


def _piece_minimum(a, m, lo, hi):
    """Minimiser of TIE on [lo, hi] (one convex piece per problem, arrays (P,)): grid scan, then bisection on the
    slope (float64 TIE is flat to rounding over ~sqrt(eps) around its minimum; its slope crosses 0 sharply)."""
    v = np.linspace(0.0, 1.0, SCAN_POINTS + 1)
    grid = lo[:, None] + (hi - lo)[:, None] * v[None, :]
    i = np.argmin(two_source_tie(a[:, None, :], m[:, None], grid), axis=1)
    rows = np.arange(len(lo))
    # convexity puts the piece's minimum between the grid minimum's neighbours, where the slope is increasing
    left, right = grid[rows, np.maximum(i - 1, 0)], grid[rows, np.minimum(i + 1, SCAN_POINTS)]
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (left + right)
        rising = two_source_tie_slope(a, m, mid) > 0
        left, right = np.where(rising, left, mid), np.where(rising, mid, right)
    best = 0.5 * (left + right)
    return best, two_source_tie(a, m, best)


def _optimum_block(gram):
    a, m = _spectra(gram)
    lam1, lam2, one = 1.0 + a[:, 0], 1.0 + a[:, 1], np.ones(len(a))
    # TIE'(1) = m - 1 <= 0 and the piece (0, lambda_2] is convex: its minimum is never above TIE(1), so beta = 1
    # is no candidate of its own (near-orthogonal columns gain less than TIE's rounding, the slope still finds beta*)
    pieces = [_piece_minimum(a, m, one, lam2), _piece_minimum(a, m, lam2, lam1)]
    betas, ties = np.stack([p[0] for p in pieces]), np.stack([p[1] for p in pieces])
    pick = np.argmin(ties, axis=0)
    cols = np.arange(len(a))
    beta_star, tie_star, tie_one = betas[pick, cols], ties[pick, cols], two_source_tie(a, m, one)
    tie_star = np.minimum(tie_star, tie_one)    # the gain is >= 0: a value like -1e-14 is rounding
    # orthogonal columns: TIE(1) = 0 in exact arithmetic and TIE >= 0, so beta* = 1 (not 1 + rounding)
    orthogonal = gram[:, 0, 1] == 0.0
    beta_star, tie_one, tie_star = (np.where(orthogonal, value, x) for value, x in
                                    ((1.0, beta_star), (0.0, tie_one), (0.0, tie_star)))
    active = (lam1 > beta_star).astype(int) + (lam2 > beta_star).astype(int)
    return beta_star, tie_star, tie_one, active


def two_source_optimum(gram) -> TwoSourceOptimum:
    """beta* of the gauge-aligned TIE for each 2 x 2 Gram matrix A^T A in ``gram`` (..., 2, 2), float64.

    Agrees with the certified :func:`numerics.optimal_beta.optimal_beta` to ~1e-12 relative.

    >>> r = two_source_optimum(two_source_gram(60.0, 0.5, 5.0))
    >>> round(float(r.beta_star), 10), bool(r.tie_gain > 0), int(r.active_units)
    (1.0310731718, True, 2)
    """
    gram = np.asarray(gram, dtype=float)
    shape, flat = gram.shape[:-2], gram.reshape(-1, 2, 2)
    # blocks bound the memory of the (points x scan) arrays whatever the grid
    parts = [_optimum_block(flat[i:i + BLOCK]) for i in range(0, len(flat), BLOCK)]
    beta_star, tie_star, tie_one, active = (np.concatenate([p[n] for p in parts]).reshape(shape) for n in range(4))
    return TwoSourceOptimum(beta_star=beta_star, tie_star=tie_star, tie_at_1=tie_one, active_units=active)


# ------------------------------------------------------------------------------------------------ the diagram
@dataclass(frozen=True, eq=False)
class PhasePanel:
    """beta*, TIE gain and TIE(1) on a grid: rows follow ``y`` (norm ratio or scale), columns ``x`` (angle)."""

    x_name: str
    x: np.ndarray
    y_name: str
    y: np.ndarray
    fixed: dict               # the coordinate held fixed, e.g. {"scale": 65.5}
    beta_star: np.ndarray     # (len(y), len(x))
    tie_gain: np.ndarray
    tie_at_1: np.ndarray
    active_units: np.ndarray  # 2: both units active at beta*; 1: the weaker has collapsed (the other phase)

    def to_json(self) -> dict:
        return {"x": {"name": self.x_name, "values": self.x}, "y": {"name": self.y_name, "values": self.y},
                "fixed": self.fixed, "beta_star": self.beta_star, "tie_gain": self.tie_gain, "tie_at_1": self.tie_at_1,
                "active_units": self.active_units,
                "max_beta_star": _extreme(self, self.beta_star), "max_tie_gain": _extreme(self, self.tie_gain)}


def _extreme(panel: PhasePanel, values: np.ndarray) -> dict:
    i, j = np.unravel_index(int(np.argmax(values)), values.shape)
    return {"value": float(values[i, j]), panel.x_name: float(panel.x[j]), panel.y_name: float(panel.y[i])}


@dataclass(frozen=True)
class Landmark:
    """A named problem's place in the diagram (coordinates from its matrix) and its beta*."""

    name: str
    angle: float
    ratio: float
    scale: float
    beta_star: float
    tie_gain: float


@dataclass(frozen=True, eq=False)
class PhaseDiagram:
    """The two panels (angle x ratio at a fixed scale; angle x scale at ratio 1) and the paper's problems."""

    ratio_panel: PhasePanel
    scale_panel: PhasePanel
    landmarks: tuple[Landmark, ...]

    def to_json(self) -> dict:
        return {"coordinates": ("A = [a1 a2], a1 = c (1, 0), a2 = c r (cos t, sin t), c^2 = scale / (1 + r^2): "
                                "angle t in degrees (0, 90], norm ratio r in (0, 1], scale = trace(A^T A)"),
                "ratio_panel": self.ratio_panel, "scale_panel": self.scale_panel, "landmarks": self.landmarks}


def _panel(angles, y, y_name, gram, fixed) -> PhasePanel:
    r = two_source_optimum(gram)
    return PhasePanel(x_name="angle", x=np.asarray(angles, dtype=float), y_name=y_name, y=np.asarray(y, dtype=float),
                      fixed=fixed, beta_star=r.beta_star, tie_gain=r.tie_gain, tie_at_1=r.tie_at_1,
                      active_units=r.active_units)


def phase_diagram(angles, ratios, scale: float) -> PhasePanel:
    """beta* over angle (degrees, columns) x norm ratio (rows) at a fixed scale = trace(A^T A)."""
    t, r = np.meshgrid(np.asarray(angles, dtype=float), np.asarray(ratios, dtype=float))
    return _panel(angles, ratios, "ratio", two_source_gram(t, r, scale), {"scale": float(scale)})


def scale_diagram(angles, scales, ratio: float = 1.0) -> PhasePanel:
    """beta* over angle (degrees, columns) x scale (rows) at a fixed norm ratio (1: both paper problems lie there)."""
    t, s = np.meshgrid(np.asarray(angles, dtype=float), np.asarray(scales, dtype=float))
    return _panel(angles, scales, "scale", two_source_gram(t, ratio, s), {"ratio": float(ratio)})


def landmarks() -> tuple[Landmark, ...]:
    """The paper's problem (Section IV.B) and Fig. 3's, placed by :func:`mixing_coordinates`."""
    out = []
    for name, A in (("paper", paper_mixing()), ("fig3", fig3_mixing())):
        angle, ratio, scale = mixing_coordinates(A)
        r = two_source_optimum(two_source_gram(angle, ratio, scale))
        out.append(Landmark(name, angle, ratio, scale, float(r.beta_star), float(r.tie_gain)))
    return tuple(out)


def phase_diagrams(grid: int = DEFAULT_GRID, scale: float | None = None) -> PhaseDiagram:
    """Both panels on ``grid`` x ``grid`` points (``COARSE_GRID`` for the audit report); ``scale`` of the ratio
    panel defaults to the paper's problem's, 65.5. Angles (90/grid .. 90), ratios (1/grid .. 1), scales
    log-spaced over ``SCALE_RANGE``.
    """
    if int(grid) < 2:
        raise ValueError(f"grid must be at least 2, got {grid}")
    marks = landmarks()
    scale = marks[0].scale if scale is None else float(scale)
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale}")
    angles = np.linspace(90.0 / grid, 90.0, grid)
    return PhaseDiagram(ratio_panel=phase_diagram(angles, np.linspace(1.0 / grid, 1.0, grid), scale),
                        scale_panel=scale_diagram(angles, np.geomspace(*SCALE_RANGE, grid)), landmarks=marks)


def plot_phase_diagram(result: PhaseDiagram, path: str | Path) -> Path:
    """Two panels: colour beta*, labelled contours of the TIE gain TIE(1) - TIE(beta*), the boundary between the
    phases (both units active at beta* / the weaker collapsed), t = 90 (orthogonal columns) and the paper's
    problems where they fall; written atomically to ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    panels = (result.ratio_panel, result.scale_panel)
    top = max(float(p.beta_star.max()) for p in panels)
    norm = Normalize(vmin=1.0, vmax=max(top, 1.0 + 1e-6))
    fig, axes = plt.subplots(1, 2, figsize=(14, 6), constrained_layout=True)
    for ax, p in zip(axes, panels):
        mesh = ax.pcolormesh(p.x, p.y, p.beta_star, norm=norm, cmap="viridis", shading="nearest")
        # contours left of t = 90: at ratio 1 the gain jumps to 0 there (module docstring), the red line says so
        inside = p.x < 90.0
        gain = p.tie_gain[:, inside]
        positive = gain[gain > 0]
        if inside.sum() >= 2 and positive.size and positive.max() > positive.min() * 1.01:
            # the gain spans decades (it vanishes as t -> 90 below ratio 1): log-spaced levels
            levels = np.geomspace(max(positive.min(), positive.max() * 1e-4), positive.max(), 6)[:-1]
            cs = ax.contour(p.x[inside], p.y, gain, levels=levels, colors="white", linewidths=0.8)
            ax.clabel(cs, fmt="%.2g", fontsize=7)
        if p.active_units.min() < p.active_units.max():
            ax.contour(p.x, p.y, p.active_units, levels=[1.5], colors="black", linewidths=1.2, linestyles="dashdot")
            ax.plot([], [], color="black", lw=1.2, ls="dashdot",
                    label="phase boundary: on its small-angle side the weaker unit is collapsed at beta*")
        ax.axvline(90.0, color="red", lw=1.5, ls="--", label="t = 90: orthogonal columns, beta* = 1, gain 0")
        for mark, style in zip(result.landmarks, ("*", "o")):
            y = mark.ratio if p.y_name == "ratio" else mark.scale
            fixed = mark.scale if "scale" in p.fixed else mark.ratio
            if np.isclose(fixed, next(iter(p.fixed.values())), rtol=1e-9) and p.y.min() <= y <= p.y.max():
                ax.plot(mark.angle, y, style, color="red", ms=12, mec="white", clip_on=False,
                        label=f"{mark.name} (t = {mark.angle:.2f} deg, scale {mark.scale:.4g}): "
                              f"beta* = {mark.beta_star:.6g}, gain {mark.tie_gain:.3g}")
        ax.set_xlabel("angle t between the columns of A (degrees)")
        if p.y_name == "scale":
            ax.set_yscale("log")
            ax.set_ylabel("scale ||a1||^2 + ||a2||^2 = trace(A^T A)")
            ax.set_title(f"norm ratio {p.fixed['ratio']:g}: colour beta*, contours TIE(1) - TIE(beta*)", fontsize=10)
        else:
            ax.set_ylabel("norm ratio ||a2|| / ||a1||")
            ax.set_title(f"scale {p.fixed['scale']:g}: colour beta*, contours TIE(1) - TIE(beta*)", fontsize=10)
        ax.legend(fontsize=7, loc="lower left", framealpha=0.85)
    fig.colorbar(mesh, ax=axes, label="TIE-optimal beta* (gauge-aligned TIE at the closed-form optimum)")
    fig.suptitle("The TIE-optimal beta over two-source mixing matrices A = [a1 a2] (Sigma_x = A A^T + I)", fontsize=11)
    return save_figure(fig, Path(path), dpi=110)
