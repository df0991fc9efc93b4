"""``curve``: the quantities at the closed-form optimum along a beta grid (Fig. 1); ``--plot`` writes the figure.

>>> from verify.cli import main
>>> main(["curve", "--betas", "0.5,2", "--problem", "fig3"])      # doctest: +ELLIPSIS
Fig. 3: ...
0
"""
from __future__ import annotations

import argparse

from ..output import command_json
from .problem_options import (add_problem_arguments, print_problem_warnings, problem_input, problem_seeds,
                              resolve_problem, warn_at_thresholds)
from .usage import UsageError, check_plot_option, plot_errors


def _beta_flag(args) -> str:
    return "--betas" if args.betas is not None else "--grid" if args.grid is not None else "--loggrid"


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--betas", metavar="B1,B2,...", help="comma-separated beta values (> 0)")
    which.add_argument("--grid", metavar="LO:HI:N", help="N evenly spaced betas from LO to HI")
    which.add_argument("--loggrid", metavar="LO:HI:N", help="N geometrically spaced betas (default 0.05:200:100)")
    parser.add_argument("--plot", metavar="FILE.png", help="write Fig. 1 panels A-D and the log-likelihood (E)")
    add_problem_arguments(parser)


def run(args, invocation) -> int:
    from numerics.curve import beta_curve, parse_betas, parse_grid, plot_curve

    try:
        if args.betas is not None:
            betas = parse_betas(args.betas)
        elif args.grid is not None:
            betas = parse_grid(args.grid)
        else:
            betas = parse_grid(args.loggrid or "0.05:200:100", geometric=True)
    except ValueError as err:
        raise UsageError(f"{_beta_flag(args)}: {err}") from None
    if args.plot is not None:
        check_plot_option(args.plot)
    problem = resolve_problem(args)
    try:
        curve = beta_curve(problem.A, betas)
    except ValueError as err:
        raise UsageError(f"{_beta_flag(args)}: {err}") from None
    print_problem_warnings(problem, args)
    warn_at_thresholds(curve.betas, curve.collapse_thresholds)
    records = curve.to_json()
    if args.plot is not None:
        with plot_errors(args.plot):
            plot_curve(curve, args.plot, title=f"{problem.description}")
    if args.json:
        print(command_json(records, invocation, seeds=problem_seeds(args), precision={"closed_form": "float64 (numpy)"},
                    inputs=problem_input(problem)))
    else:
        print(f"{problem.description}; collapse thresholds beta = "
              + ", ".join(f"{t:.6g}" for t in curve.collapse_thresholds))
        header = ("beta", "reconstruction", "kl", "elbo", "log_likelihood", "mie", "tie")
        print("  ".join(f"{h:>14}" for h in header))
        for r in records:
            print("  ".join(f"{r[h]:>14.8g}" for h in header))
        if args.plot is not None:
            print(f"wrote {args.plot}")
    return 0
