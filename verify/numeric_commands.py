"""Numeric subcommands: ``curve`` (and the shared problem options).

Every usage problem raises :class:`verify.cli.UsageError` with ``<argument>: <problem>`` before any
output is written; degenerate but meaningful problems print ``warning: ...`` lines on stderr.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .output import dumps


def add_problem_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--problem", default=None, metavar="NAME",
                       help="paper (default: N=128, k=2, A_ij=(1+delta_ij)/2) or fig3 (N=k=2, A=2I+0.73)")
    group.add_argument("--mixing", metavar="FILE", help="an N x k mixing matrix in .npy (no pickle) or .csv")
    group.add_argument("--random", metavar="NxK", help="a random N x k matrix, entries N(0,1)/sqrt(k)")
    parser.add_argument("--seed", type=int, default=None, help="seed of --random (default 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def resolve_problem(args):
    from numerics import problems

    from .cli import UsageError
    try:
        if args.mixing is not None:
            problem = problems.load_mixing(args.mixing)
        elif args.random is not None:
            N, k = problems.parse_shape(args.random)
            problem = problems.random_problem(N, k, random_seed(args))
        elif args.problem in (None, "paper"):
            problem = problems.paper_problem()
        elif args.problem == "fig3":
            problem = problems.fig3_problem()
        else:
            raise UsageError(f"--problem: unknown problem '{args.problem}' (choose paper or fig3)")
    except problems.ProblemError as err:
        message = str(err)
        raise UsageError(message if message.startswith("--") else f"{problem_flag(args)}: {message}") from None
    return problem


def print_problem_warnings(problem, args=None) -> None:
    """The problem's degeneracy warnings; printed only once every argument has been accepted, so that a
    refused command prints its one error line and nothing else."""
    if args is not None and args.seed is not None and args.random is None:
        print("warning: --seed has no effect without --random (it seeds the random mixing matrix)", file=sys.stderr)
    for note in problem.warnings:
        print(f"warning: {note}", file=sys.stderr)


def problem_flag(args) -> str:
    """The option that chose the mixing matrix, for error messages."""
    return "--random" if args.random is not None else "--mixing" if args.mixing is not None else "--problem"


PLOT_TYPES = ("png", "pdf", "svg", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp")


def check_plot_option(path: str) -> None:
    """--plot FILE: refused before any work if it cannot be written or matplotlib cannot write that type."""
    from .cli import UsageError
    problem = output_file_problem(path)
    if problem:
        raise UsageError(f"--plot: {problem}")
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in PLOT_TYPES:
        raise UsageError(f"--plot: unsupported file type '{suffix or Path(path).name}' "
                         f"(use one of {', '.join(PLOT_TYPES)})")


class plot_errors:
    """Context manager: an OSError while writing the figure becomes ``--plot: cannot write ...``."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, OSError):
            from .cli import UsageError
            raise UsageError(f"--plot: cannot write '{self.path}': {exc.strerror or exc}") from None
        return False


def output_file_problem(path: str) -> str | None:
    if str(path) == "":
        return "empty path"
    p = Path(path)
    if p.exists() and p.is_dir():
        return f"'{p}' is a directory"
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        return f"directory '{parent}' does not exist"
    import os
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"directory '{parent}' is not writable"
    return None


def problem_seeds(args) -> dict:
    """The seed that drew the mixing matrix (only with --random: no other seed decides it)."""
    return {"random_mixing_matrix": random_seed(args)} if args.random is not None else {}


def random_seed(args) -> int:
    return 0 if args.seed is None else args.seed


def problem_input(problem) -> dict:
    """What identifies the mixing matrix in the provenance: its name and its values' fingerprint."""
    from numerics.provenance import matrix_fingerprint
    return {"mixing_matrix": {"problem": problem.name, **matrix_fingerprint(problem.A)}}


THRESHOLD_RTOL = 1e-9


def warn_at_thresholds(betas, thresholds) -> None:
    """A beta on a collapse threshold 1 + a_i gets a stated warning: the optimum is continuous there
    but not differentiable (the unit's d_i ~ sqrt(lambda_i - beta) -> 0 from the left), so one-sided
    derivatives differ and a rounding of lambda_i by 1e-16 moves the values by ~1e-8."""
    import numpy as np
    for t in sorted(set(float(x) for x in np.asarray(thresholds))):
        hits = [float(b) for b in np.asarray(betas) if abs(float(b) - t) <= THRESHOLD_RTOL * t]
        if hits:
            print(f"warning: beta = {hits[0]:.10g} is a collapse threshold (1 + a_i = {t:.10g}): a unit collapses "
                  "there; the values are continuous, but TIE's square-root kink on the left turns float64 rounding "
                  "of the eigenvalues into errors of about 1e-8 (optimal-beta gives it to any precision), and "
                  "derivatives are one-sided", file=sys.stderr)


# ------------------------------------------------------------------------------------- curve
def _beta_flag(args) -> str:
    return "--betas" if args.betas is not None else "--grid" if args.grid is not None else "--loggrid"


def configure_curve(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--betas", metavar="B1,B2,...", help="comma-separated beta values (> 0)")
    which.add_argument("--grid", metavar="LO:HI:N", help="N evenly spaced betas from LO to HI")
    which.add_argument("--loggrid", metavar="LO:HI:N", help="N geometrically spaced betas (default 0.05:200:100)")
    parser.add_argument("--plot", metavar="FILE.png", help="write Fig. 1 panels A-D and the log-likelihood (E)")
    add_problem_arguments(parser)


def run_curve(args) -> int:
    from numerics.curve import beta_curve, parse_betas, parse_grid, plot_curve

    from .cli import UsageError
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
    records = curve.records()
    if args.plot is not None:
        with plot_errors(args.plot):
            plot_curve(curve, args.plot, title=f"{problem.description}")
    if args.json:
        print(dumps(records, seeds=problem_seeds(args), precision={"closed_form": "float64 (numpy)"},
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


# -------------------------------------------------------------------------------- stationary
def configure_stationary(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--beta", required=True, metavar="B", help="beta > 0")
    parser.add_argument("--starts", type=int, default=24, metavar="S",
                        help="random starts (default 24); the known stationary points, jittered, are added as "
                             "further starts, so the output counts more")
    parser.add_argument("--solver-seed", type=int, default=0, metavar="S", help="seed of the random starts (default 0)")
    add_problem_arguments(parser)


def run_stationary(args) -> int:
    import math

    import numpy as np

    from numerics.stationary import BETA_RANGE, format_result, solve_stationary

    from .cli import UsageError
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
    if args.problem in (None, "paper") and args.mixing is None and args.random is None:
        raise UsageError("--problem: the full stationarity solver handles N <= 10, k <= 3; the paper's problem "
                         "(N=128) is too large; use --problem fig3, --mixing FILE or --random NxK")
    problem = resolve_problem(args)
    try:
        result = solve_stationary(problem.A, beta, starts=args.starts, seed=args.solver_seed)
    except ValueError as err:
        raise UsageError(f"{problem_flag(args)}: {' '.join(str(err).split())}") from None
    print_problem_warnings(problem, args)
    warn_at_thresholds([beta], 1.0 + np.linalg.svd(problem.A, compute_uv=False) ** 2)
    if not result.closed_form_found:
        print(f"warning: none of {result.n_starts} starts converged to the closed-form optimum (the best point "
              f"found is {result.best_gap:.3g} below its objective); raise --starts or change --solver-seed",
              file=sys.stderr)
    if args.json:
        print(dumps({
            "beta": result.beta, "N": result.N, "k": result.k, "closed_form_objective": result.closed_form_objective,
            "closed_form_found": result.closed_form_found, "closed_form_is_best": result.closed_form_is_best,
            "best_gap": result.best_gap, "kinds": result.kinds(), "n_starts": result.n_starts,
            "n_converged": result.n_converged, "wall_time": result.wall_time,
            "points": [{"objective": p.objective, "kind": p.kind, "grad_norm": p.grad_norm,
                        "dtd_spectrum": list(p.dtd_spectrum), "is_closed_form": p.is_closed_form,
                        "hessian": {"largest": p.hessian.largest, "smallest": p.hessian.smallest,
                                    "positive": p.hessian.n_positive, "negative": p.hessian.n_negative,
                                    "near_zero": p.hessian.n_near_zero, "symmetry": p.hessian.n_symmetry}}
                       for p in result.points]},
            seeds={**problem_seeds(args), "solver_starts": args.solver_seed},
            precision={"solver": "float64 (scipy.optimize, Newton polish)", "closed_form": "float64 (numpy)"},
            inputs=problem_input(problem)))
    else:
        print(problem.description)
        print(format_result(result))
    return 0


# ------------------------------------------------------------------------------ optimal-beta
DIGITS_RANGE = (1, 1000)


def configure_optimal_beta(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--digits", default="50", metavar="D",
                        help=f"significant digits of beta* and TIE*, {DIGITS_RANGE[0]}..{DIGITS_RANGE[1]} (default 50)")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact algebraic characterisation")
    add_problem_arguments(parser)


def _exact_for(args, problem, beta_star):
    """SymPy's exact characterisation of beta* for the named rational problems (None otherwise)."""
    if args.no_exact or args.mixing is not None or args.random is not None:
        return None, "not attempted (only for the rational problems paper and fig3)" if not args.no_exact else "--no-exact"
    from derivations import exact_beta
    A = exact_beta.fig3_matrix() if args.problem == "fig3" else exact_beta.paper_matrix()
    res = exact_beta.exact_optimal_beta(A, beta_star)
    digits = len(beta_star.replace(".", "").replace("-", "").lstrip("0"))
    value = res.root.evalf(digits + 10)
    return {"polynomial": str(res.polynomial.as_expr()), "interval": [str(res.interval[0]), str(res.interval[1])],
            "kind": res.kind, "root": str(res.root), "value": str(value),
            "agrees_with_mpmath": _agree(str(value), beta_star)}, None


def _agree(a: str, b: str) -> bool:
    from decimal import Decimal
    da, db = Decimal(a), Decimal(b)
    digits = len(b.replace(".", "").replace("-", "").lstrip("0"))
    return abs(da - db) <= abs(db) * Decimal(10) ** (-(digits - 1))


def run_optimal_beta(args) -> int:
    from dataclasses import asdict

    from numerics.optimal_beta import PrecisionError, optimal_beta

    from .cli import UsageError
    try:
        digits = int(args.digits)
    except ValueError:
        raise UsageError(f"--digits: expected an integer, got '{args.digits}'") from None
    if not DIGITS_RANGE[0] <= digits <= DIGITS_RANGE[1]:
        raise UsageError(f"--digits: must be between {DIGITS_RANGE[0]} and {DIGITS_RANGE[1]}, got {digits}")
    problem = resolve_problem(args)
    A_input = problem.A
    if problem.name == "fig3":   # 0.73 is not a binary float: give mpmath the exact rational matrix
        from fractions import Fraction
        A_input = [[Fraction(273, 100), Fraction(73, 100)], [Fraction(73, 100), Fraction(273, 100)]]
    try:
        with warnings.catch_warnings():   # the same notes come back in result.warnings, printed once below
            warnings.simplefilter("ignore")
            result = optimal_beta(A_input, digits=digits)
    except PrecisionError as err:
        print(f"optimal-beta: refusing to print unconfirmed digits: {' '.join(str(err).split())}", file=sys.stderr)
        return 1
    except ValueError as err:
        raise UsageError(f"{problem_flag(args)}: {' '.join(str(err).split())}") from None
    print_problem_warnings(problem, args)
    already = " ".join(problem.warnings)   # printed just above; don't say the same thing twice
    for note in result.warnings:
        topic = "repeated eigenvalue" if "repeated eigenvalue" in note else "rank" if note.startswith("A has rank") else None
        if topic is None or (topic == "rank" and "rank-deficient" not in already) or (topic != "rank" and topic not in already):
            print(f"warning: {note}", file=sys.stderr)
    try:
        exact, why = _exact_for(args, problem, result.beta_star)
    except Exception as err:  # the exact route is a cross-check; its failure is reported, not fatal
        exact, why = None, f"failed: {' '.join(str(err).split())[:300]}"
        print(f"warning: exact characterisation {why}", file=sys.stderr)
    doc = asdict(result)
    doc["exact"] = exact if exact is not None else {"skipped": why}
    if args.json:
        print(dumps(doc, seeds=problem_seeds(args), precision={
            "digits_requested": digits, "digits_confirmed": result.confirmed_digits,
            "mpmath_working_dps": list(result.working_dps), "mpmath_precision_bits": list(result.precision_bits),
            "input": "exact rationals" if problem.name in ("paper", "fig3") else
                     "the float64 matrix entries, read as exact binary rationals",
            "exact_characterisation": "SymPy exact algebraic numbers" if exact is not None else None},
            inputs=problem_input(problem)))
    else:
        print(problem.description)
        print(f"beta*  = {result.beta_star}  ({result.kind}; {result.confirmed_digits} digits confirmed at higher precision)")
        print(f"TIE*   = {result.tie_star}")
        print(f"alignment: latent j -> source {list(result.alignment.permutation)}, signs {list(result.alignment.signs)}")
        print("collapse thresholds: " + ", ".join(result.collapse_thresholds))
        for m in result.local_minima:
            print(f"local minimum: beta = {m.beta[:20]}  TIE = {m.tie[:20]}  ({m.kind})")
        print(f"MIE-optimal beta: {result.mie_optimal_beta} ({result.mie_minimisers})")
        if exact is not None:
            print(f"exact: beta* is the root of {exact['polynomial']} in [{exact['interval'][0]}, {exact['interval'][1]}]; "
                  f"agrees with the digits above: {exact['agrees_with_mpmath']}")
    return 0
