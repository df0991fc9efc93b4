"""``phase-diagram``: the TIE-optimal beta over two-source mixing matrices (angle x norm ratio, angle x scale).

>>> parse_scale("65.5"), parse_scale(None)
(65.5, None)
>>> parse_scale("0")
Traceback (most recent call last):
verify.commands.usage.UsageError: --scale: must be a finite number in [0.001, 1e+06], got 0.0
"""
from __future__ import annotations

import argparse
import math

from ..output import command_json
from .usage import UsageError, bounded_int, check_plot_option, plot_errors

GRID_RANGE = (2, 501)           # points per axis; 501 is ~6 s of numerics and a ~50 MB --json document
SCALE_RANGE = (1e-3, 1e6)       # trace(A^T A) of the ratio panel


def configure(parser: argparse.ArgumentParser) -> None:
    from numerics.phase_diagram import DEFAULT_GRID
    parser.add_argument("--plot", metavar="FILE.png", help="write the two-panel figure")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    parser.add_argument("--grid", default=str(DEFAULT_GRID), metavar="N",
                        help=f"points per axis, {GRID_RANGE[0]}..{GRID_RANGE[1]} (default {DEFAULT_GRID})")
    parser.add_argument("--scale", default=None, metavar="S",
                        help="trace(A^T A) of the angle x ratio panel (default: the paper's problem's, 65.5)")


def parse_scale(text) -> float | None:
    """--scale as a float in SCALE_RANGE (None: the default), or a UsageError naming the option."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--scale: expected a number, got '{text}'") from None
    if not (math.isfinite(value) and SCALE_RANGE[0] <= value <= SCALE_RANGE[1]):
        raise UsageError(f"--scale: must be a finite number in [{SCALE_RANGE[0]:g}, {SCALE_RANGE[1]:g}], got {value}")
    return value


def run(args, invocation) -> int:
    from numerics.phase_diagram import phase_diagrams, plot_phase_diagram

    grid = bounded_int("--grid", args.grid, *GRID_RANGE)
    scale = parse_scale(args.scale)
    if args.plot is not None:
        check_plot_option(args.plot)
    result = phase_diagrams(grid=grid, scale=scale)
    if args.plot is not None:
        with plot_errors(args.plot):
            plot_phase_diagram(result, args.plot)
    if args.json:
        print(command_json(result.to_json(), invocation, seeds={}, precision={
            "beta_star": "float64: grid scan of each convex piece of TIE(beta), then bisection on its slope",
            "grid": grid}))
        return 0
    ratio, scale_panel = result.ratio_panel.to_json(), result.scale_panel.to_json()
    print(f"beta* of the gauge-aligned TIE on {grid} x {grid} points; angle t in degrees, ratio = ||a2|| / ||a1||, "
          "scale = trace(A^T A)")
    for name, doc, fixed in (("angle x ratio", ratio, f"scale {result.ratio_panel.fixed['scale']:g}"),
                             ("angle x scale", scale_panel, f"ratio {result.scale_panel.fixed['ratio']:g}")):
        b, g = doc["max_beta_star"], doc["max_tie_gain"]
        where = lambda d: ", ".join(f"{k} {v:.4g}" for k, v in d.items() if k != "value")  # noqa: E731
        print(f"{name} ({fixed}): largest beta* {b['value']:.6g} at {where(b)}; "
              f"largest TIE gain {g['value']:.4g} at {where(g)}")
    for m in result.landmarks:
        print(f"{m.name}: t = {m.angle:.4f} deg, ratio {m.ratio:g}, scale {m.scale:.6g}: beta* = {m.beta_star:.12g}, "
              f"TIE(1) - TIE(beta*) = {m.tie_gain:.6g}")
    if args.plot is not None:
        print(f"wrote {args.plot}")
    return 0
