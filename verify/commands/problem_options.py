"""The options that choose a mixing matrix (``--problem``, ``--mixing``, ``--random NxK --seed S``), shared by the
numeric commands and ``crosscheck``; ``--seed`` means one thing in every command: the seed of ``--random``.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_problem_arguments(parser)
>>> args = parser.parse_args(["--random", "3x2", "--seed", "5"])
>>> problem_flag(args), problem_seeds(args)
('--random', {'random_mixing_matrix': 5})
"""
from __future__ import annotations

import argparse
import sys

from .usage import UsageError


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
        raise UsageError(problem_usage_message(err, problem_flag(args))) from None
    return problem


def problem_usage_message(err, flag: str) -> str:
    """A numerics.problems.ProblemError as one usage line: its field's flag (``matrix``: ``flag``, the option that
    chose the matrix) and the problem.

    >>> from numerics.problems import ProblemError
    >>> problem_usage_message(ProblemError("seed", "must be a non-negative integer, got -1"), "--random")
    '--seed: must be a non-negative integer, got -1'
    >>> problem_usage_message(ProblemError("matrix", "contains NaN or infinite entries"), "--mixing")
    '--mixing: mixing matrix: contains NaN or infinite entries'
    """
    if err.field == "matrix":
        return f"{flag}: mixing matrix: {err.problem}"
    if err.field == "random" and "from a file" in err.problem:
        return f"--random: {err.problem} (--mixing FILE)"
    return f"--{err.field}: {err.problem}"


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


def problem_seeds(args) -> dict:
    """The seed that drew the mixing matrix (only with --random: no other seed decides it)."""
    return {"random_mixing_matrix": random_seed(args)} if args.random is not None else {}


def random_seed(args) -> int:
    return 0 if args.seed is None else args.seed


def problem_input(problem) -> dict:
    """What identifies the mixing matrix in the provenance: its name and its values' fingerprint."""
    from numerics.artifacts import matrix_fingerprint
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
