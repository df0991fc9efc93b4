"""``stationary``: the full stationarity system (eq. 23 with eq. 22) solved from random starts, classified by the
Hessian, for small problems (N <= 10, k <= 3). Sigma_x from a mixing matrix (with ``--noise-variance``) or
``--covariance FILE --latents K``; the decoder and prior variances are refused with the identity that makes them
unnecessary (the stationary points at (beta, sigma_d^2) are those at beta sigma_d^2, up to z -> z / sigma_p).

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> configure(parser)
>>> parser.parse_args(["--beta", "2", "--problem", "fig3"]).solver_seed
0
"""
from __future__ import annotations

import argparse
import sys

from ..output import command_json
from .problem_options import add_problem_arguments, print_problem_warnings, problem_flag, resolve_data, warn_at_thresholds
from .usage import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--beta", required=True, metavar="B", help="beta > 0")
    parser.add_argument("--starts", type=int, default=24, metavar="S",
                        help="random starts (default 24); the known stationary points, jittered, are added as "
                             "further starts, so the output counts more")
    parser.add_argument("--solver-seed", type=int, default=0, metavar="S", help="seed of the random starts (default 0)")
    add_problem_arguments(parser, data=True)


def run(args, invocation) -> int:
    import math

    from numerics.stationary import BETA_RANGE, format_result, solve_stationary

    try:
        beta = float(args.beta)
    except ValueError:
        raise UsageError(f"--beta: expected a number, got '{args.beta}'") from None
    if not math.isfinite(beta) or beta <= 0:
        raise UsageError(f"--beta: must be a finite number > 0, got {args.beta}")
    if not BETA_RANGE[0] <= beta <= BETA_RANGE[1]:
        raise UsageError(f"--beta: the full stationarity solver needs {BETA_RANGE[0]:g} <= beta <= {BETA_RANGE[1]:g} "
                         f"(float64 conditioning), got {args.beta}; 'curve --betas {args.beta}' gives the closed-form "
                         "optimum there")
    if args.solver_seed < 0:
        raise UsageError(f"--solver-seed: must be a non-negative integer, got {args.solver_seed}")
    if not 1 <= args.starts <= 10_000:
        raise UsageError(f"--starts: must be between 1 and 10000, got {args.starts}")
    for name in ("decoder", "prior"):
        if getattr(args, f"{name}_variance") is not None:
            raise UsageError(f"--{name}-variance: not needed by the solver: the stationary points at (beta, sigma_d^2, "
                             "sigma_p^2) are those of the unit model at beta sigma_d^2, with z -> z / sigma_p (identities "
                             "(a), (b) of the derivation); run --beta with beta x sigma_d^2")
    if args.spectrum is not None:
        raise UsageError("--spectrum: the solver needs Sigma_x itself (eigenvectors too); use --covariance FILE")
    if args.samples is not None:
        raise UsageError("--samples: not supported by stationary (curve gives the finite-sample optimum)")
    if args.problem in (None, "paper") and args.mixing is None and args.random is None and args.covariance is None:
        raise UsageError("--problem: the full stationarity solver handles N <= 10, k <= 3; the paper's problem "
                         "(N=128) is too large; use --problem fig3, --mixing FILE, --random NxK or --covariance FILE")
    given = resolve_data(args, keep_covariance=True)
    flag = "--covariance" if given.problem is None else problem_flag(args)
    shape = (given.data.N, given.data.k)
    import numpy as np
    try:
        result = solve_stationary(np.zeros(shape) if given.problem is None else given.problem.A, beta,
                                  starts=args.starts, seed=args.solver_seed, noise=given.variances.noise,
                                  covariance=given.covariance)
    except ValueError as err:
        raise UsageError(f"{flag}: {' '.join(str(err).split())}") from None
    print_problem_warnings(given, args)
    warn_at_thresholds([beta], np.sort(given.data.lam), paper_model=given.problem is not None and given.variances.is_unit,
                       tie=False)
    if not result.closed_form_found:
        print(f"warning: none of {result.n_starts} starts converged to the closed-form optimum (the best point "
              f"found is {result.best_gap:.3g} below its objective); raise --starts or change --solver-seed",
              file=sys.stderr)
    if args.json:
        print(command_json(result.to_json(), invocation, seeds={**given.seeds, "solver_starts": args.solver_seed},
                    precision={"solver": "float64 (scipy.optimize, Newton polish)", "closed_form": "float64 (numpy)"},
                    inputs=given.inputs))
    else:
        print(given.description)
        print(format_result(result))
    return 0
