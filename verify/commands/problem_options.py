"""The options that choose the data (``--problem``, ``--mixing``, ``--random NxK --seed S``; with ``data=True`` also
``--covariance FILE``, ``--spectrum LIST``, ``--latents K``, ``--samples N`` and the three variances), shared by the
numeric commands and ``crosscheck``. ``--seed`` means one thing in every command: the seed of what is random in the
input (the ``--random`` matrix, and the ``--samples`` draws, from separate streams).

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
from dataclasses import dataclass

from .usage import UsageError


def add_problem_arguments(parser: argparse.ArgumentParser, *, data: bool = False, variances: bool = False) -> None:
    """The mixing-matrix options; ``data``: also a covariance, a spectrum and finite samples (and the variances);
    ``variances``: only the three variances."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--problem", default=None, metavar="NAME",
                       help="paper (default: N=128, k=2, A_ij=(1+delta_ij)/2) or fig3 (N=k=2, A=2I+0.73)")
    group.add_argument("--mixing", metavar="FILE", help="an N x k mixing matrix in .npy (no pickle) or .csv")
    group.add_argument("--random", metavar="NxK", help="a random N x k matrix, entries N(0,1)/sqrt(k)")
    if data:
        group.add_argument("--covariance", metavar="FILE",
                           help="Sigma_x itself: an N x N symmetric positive semi-definite matrix, .npy or .csv "
                                "(with --latents K; no ground truth, so no TIE)")
        group.add_argument("--spectrum", metavar="L1,L2,...",
                           help="the eigenvalues of Sigma_x, any order, N = their number (with --latents K; no TIE)")
        parser.add_argument("--latents", metavar="K", default=None, help="number of latents k (--covariance, --spectrum)")
        parser.add_argument("--samples", metavar="N", default=None,
                            help="with a mixing matrix: the exact optimum for N training draws x = A s + eta (their "
                                 "sample covariance), its TIE against the true posterior")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of --random" + (" and of the --samples draws" if data else "") + " (default 0)")
    if data or variances:
        for name, symbol, what in (("noise", "sigma_eta^2", "x = A s + eta, eta ~ N(0, V I)"),
                                   ("decoder", "sigma_d^2", "p(x|z) = N(D z + b_D, V I)"),
                                   ("prior", "sigma_p^2", "p(z) = N(0, V I)")):
            parser.add_argument(f"--{name}-variance", metavar="V", default=None,
                                help=f"{symbol}: {what} (default 1, the paper's)")
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


@dataclass(frozen=True)
class DataInput:
    """The data and variances a command was given: ``problem`` the mixing matrix where there is one (None for a
    covariance or a spectrum), ``data`` what the closed form needs, ``inputs`` and ``seeds`` for the provenance."""

    data: object                       # numerics.data_spectrum.DataSpectrum
    variances: object                  # numerics.variances.Variances
    problem: object | None             # numerics.problems.Problem
    description: str
    warnings: tuple[str, ...]
    inputs: dict
    seeds: dict
    covariance: object | None = None   # the N x N matrix of --covariance, when the command asked to keep it


def resolve_variances(args):
    from numerics.variances import Variances, VarianceError

    values = {}
    for name in ("noise", "decoder", "prior"):
        text = getattr(args, f"{name}_variance", None)
        if text is None:
            continue
        try:
            values[name] = float(text)
        except ValueError:
            raise UsageError(f"--{name}-variance: expected a number, got '{text}'") from None
    try:
        return Variances(**values)
    except VarianceError as err:
        raise UsageError(f"--{err.field}: {err.problem}") from None


def resolve_data(args, *, keep_covariance: bool = False) -> DataInput:
    """Every data option checked (one usage line for the first problem), nothing computed beyond the eigen-data.
    ``keep_covariance``: also return the --covariance matrix itself (a copy: the eigen-decomposition consumes one)."""
    from numerics import data_spectrum as ds
    from numerics.artifacts import matrix_fingerprint

    variances = resolve_variances(args)
    samples = _positive_int(args, "samples")
    latents = _positive_int(args, "latents")
    given = args.covariance is not None or args.spectrum is not None
    flag = "--covariance" if args.covariance is not None else "--spectrum"
    if given and latents is None:
        raise UsageError(f"--latents: required with {flag} (the number of latent units k)")
    if latents is not None and not given:
        raise UsageError("--latents: only with --covariance or --spectrum (a mixing matrix fixes k)")
    if given and samples is not None:
        raise UsageError(f"--samples: needs a mixing matrix to draw from, not {flag}")
    if given and args.noise_variance is not None:
        raise UsageError(f"--noise-variance: {flag} already contains the noise (Sigma_x is given); only a mixing "
                         "matrix needs it")
    try:
        if args.covariance is not None:
            S = ds.load_covariance(args.covariance)
            fingerprint = matrix_fingerprint(S)
            kept = S.copy() if keep_covariance else None
            data = ds.DataSpectrum.from_covariance(S, latents)
            return DataInput(data, variances, None, f"covariance from {args.covariance} (N={data.N}, k={data.k})",
                             data.warnings, {"covariance": {"file": str(args.covariance), **fingerprint}}, {}, kept)
        if args.spectrum is not None:
            values = ds.parse_spectrum(args.spectrum)
            data = ds.DataSpectrum.from_spectrum(values, latents)
            return DataInput(data, variances, None, f"spectrum of Sigma_x (N={data.N}, k={data.k})", data.warnings,
                             {"spectrum": {**matrix_fingerprint(values[None, :])}}, {})
    except ds.DataError as err:
        raise UsageError(f"{flag if err.field in ('covariance', 'spectrum') else '--' + err.field}: {err.problem}") from None
    problem = resolve_problem(args)
    seeds = problem_seeds(args)
    noise = variances.noise
    if samples is not None:
        try:
            data = ds.DataSpectrum.from_samples(problem.A, noise, samples, random_seed(args))
        except ds.DataError as err:
            raise UsageError(f"--{err.field}: {err.problem}") from None
        seeds = {**seeds, "samples": random_seed(args)}
        description = f"{problem.description}; exact optimum for {samples} samples (seed {random_seed(args)})"
    else:
        data = ds.DataSpectrum.from_mixing(problem.A, noise)
        description = problem.description
    if noise != 1.0:
        description += f"; noise variance {noise:g}"
    # the problem's note on repeated eigenvalues of A^T A already says that the optimum is a continuum: keep one
    said = any("repeated eigenvalues" in w for w in problem.warnings)
    notes = problem.warnings + tuple(w for w in data.warnings if not (said and "repeated eigenvalues" in w))
    return DataInput(data, variances, problem, description, notes, problem_input(problem), seeds)


def _positive_int(args, name):
    text = getattr(args, name, None)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--{name}: expected a positive integer, got '{text}'") from None
    if value < 1 or (name == "samples" and value < 2):
        raise UsageError(f"--{name}: must be {'>= 2' if name == 'samples' else 'a positive integer'}, got {value}")
    return value


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
    """The problem's (or a DataInput's) degeneracy warnings; printed only once every argument has been accepted, so
    that a refused command prints its one error line and nothing else."""
    if args is not None and args.seed is not None and args.random is None and getattr(args, "samples", None) is None:
        print("warning: --seed has no effect without --random or --samples (it seeds what they draw)", file=sys.stderr)
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


def warn_at_thresholds(betas, thresholds, *, paper_model: bool = True, tie: bool = True) -> None:
    """A beta on a collapse threshold (beta sigma_d^2 = lambda_i; 1 + a_i in the paper's model) gets a stated warning:
    the optimum is continuous there but not differentiable (the unit's d_i ~ sqrt(lambda_i - beta) -> 0 from the left),
    so one-sided derivatives differ and a rounding of lambda_i by 1e-16 moves the values by ~1e-8."""
    import numpy as np
    where = "1 + a_i" if paper_model else "lambda_i / sigma_d^2"
    kink = ("TIE's square-root kink on the left turns float64 rounding of the eigenvalues into errors of about 1e-8 "
            "(optimal-beta gives it to any precision)" if tie else
            "the square-root kink of the decoder gain on the left turns float64 rounding of the eigenvalues into "
            "errors of about 1e-8 in the parameters")
    for t in sorted(set(float(x) for x in np.asarray(thresholds))):
        hits = [float(b) for b in np.asarray(betas) if abs(float(b) - t) <= THRESHOLD_RTOL * t]
        if hits:
            print(f"warning: beta = {hits[0]:.10g} is a collapse threshold ({where} = {t:.10g}): a unit collapses "
                  f"there; the values are continuous, but {kink}, and derivatives are one-sided", file=sys.stderr)
