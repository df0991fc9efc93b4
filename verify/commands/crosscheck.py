"""``crosscheck``: the linear model of Section IV.B trained with torch, compared with the closed form.

``python -m verify crosscheck [--quick] [--json] [--plot FILE] [--betas B1,B2,...] [--seeds S]
[--train-seed S0] [--paths exact,sampled] [--steps T] [--refine-samples M]`` with the shared problem options (``--problem paper|fig3``,
``--mixing FILE``, ``--random NxK --seed S``). ``--seed`` keeps its meaning (the seed of
``--random``); the training seeds are ``S0 .. S0 + S - 1`` (``--train-seed``, default 0).

The general model: ``--covariance FILE --latents K`` (any Sigma_x; no sources, so TIE is null, said in ``notes``),
``--noise-variance``, ``--decoder-variance``, ``--prior-variance``. It runs path (a) only (the default there;
``--paths`` with ``sampled`` is refused: path (b)'s sampler and minibatch objective are the paper's model's), compared
with the general closed form (``numerics.optimum.general_terms``, ``optimum_parameters``). ``--spectrum`` is refused
(no eigenvectors: nothing to train on), and so is ``--samples`` (the finite-sample optimum has a data mean the exact
objective does not carry).

Without ``--betas`` the betas are chosen from the problem's collapse thresholds (both sides of 1 and
of every threshold); path (b) then runs on three of them, with the protocol's first seed(s).

Exit status: 0 when path (a) reaches the closed form (max relative error <= 1e-6) and the torch
gradient equals the generated one; 1 otherwise (the table or JSON is printed all the same); 2 on
bad input (one line on stderr, nothing written). Path (b) is stochastic and does not set the status: its z is
reported, and a Newton refinement that did not converge is named on stderr.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> configure(parser)
>>> args = parser.parse_args(["--problem", "fig3", "--train-seed", "3"])
>>> args.train_seed, args.seed, args.paths          # paths None: both, or exact alone for the general model
('3', None, None)
"""
from __future__ import annotations

import math
import sys

from .problem_options import add_problem_arguments, print_problem_warnings, resolve_data
from .usage import UsageError, bounded_int, check_plot_option, plot_errors

EXACT_TOL = 1e-6


def configure(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="the quick protocol (about a minute for the paper's problem)")
    parser.add_argument("--betas", metavar="B1,B2,...", help="comma-separated beta values (> 0); default: chosen "
                        "around 1 and the collapse thresholds")
    parser.add_argument("--seeds", default=None, metavar="S",
                        help="number of training seeds for path (a) (default: 2 with --quick, 3 without)")
    parser.add_argument("--train-seed", default="0", metavar="S0", help="first training seed (default 0)")
    parser.add_argument("--paths", default=None, metavar="P1,P2",
                        help="exact (path a), sampled (path b), or both (default; exact alone, the only one, with "
                             "--covariance or the variance options)")
    parser.add_argument("--steps", default=None, metavar="T",
                        help="Adam steps of path (b) before its Newton refinement (default 4000)")
    parser.add_argument("--refine-samples", default=None, metavar="M",
                        help="size of the fresh sample path (b)'s Newton refinement solves on (default 1000000 with "
                             "--quick, 2000000 without; 0: none, Adam's average is the estimate)")
    parser.add_argument("--plot", metavar="FILE", help="write the figure (trained vs closed form along beta)")
    add_problem_arguments(parser, data=True)


# Measured on the paper's and Fig. 3's problems: path (a) reaches 1e-10 or better for 1e-4 <= beta <= 1e8
# and stops short at beta = 1e-6 (relative error 3.5).
TRUSTED_BETAS = (1e-4, 1e8)


def run(args, invocation) -> int:
    from deep.linear.betas import checked_betas
    from numerics.curve import parse_betas

    from .. import __version__
    from ..output import command_json

    betas = None
    if args.betas is not None:
        try:
            parsed = parse_betas(args.betas)
            if (parsed == 0).any():
                raise ValueError("beta = 0 cannot be trained: its optimum needs encoder variance 0 (log-variance -inf), "
                                 "which a network only approaches; 'curve --betas 0' gives the limit")
            betas = checked_betas(parsed)
        except ValueError as err:
            raise UsageError(f"--betas: {err}") from None
    seeds = bounded_int("--seeds", args.seeds, 1, 1000) if args.seeds is not None else None
    train_seed = bounded_int("--train-seed", args.train_seed, 0, 2 ** 31 - 1)
    steps = bounded_int("--steps", args.steps, 10, 10_000_000) if args.steps is not None else None
    refine_samples = (bounded_int("--refine-samples", args.refine_samples, 0, 10 ** 9)
                      if args.refine_samples is not None else None)
    paths = None
    if args.paths is not None:
        paths = tuple(p.strip() for p in args.paths.split(",") if p.strip())
        if not paths or any(p not in ("exact", "sampled") for p in paths) or len(set(paths)) != len(paths):
            raise UsageError(f"--paths: expected exact, sampled or exact,sampled, got '{args.paths}'")
    if args.plot is not None:
        check_plot_option(args.plot)
    if args.spectrum is not None:
        raise UsageError("--spectrum: crosscheck trains a network on Sigma_x and needs its eigenvectors, which a "
                         "spectrum does not give (use --covariance FILE --latents K)")
    if args.samples is not None:
        raise UsageError("--samples: not supported by crosscheck (the finite-sample optimum has the sample mean in "
                         "b_D, which the exact objective of centred data does not carry); use curve --samples")
    given = resolve_data(args, keep_covariance=True)
    data = _linear_data(given)
    general = not data.is_paper_model
    if general and paths is not None and "sampled" in paths:
        raise UsageError("--paths: path (b) (sampled) runs only on the paper's model (a mixing matrix, unit "
                         "variances); use --paths exact with --covariance or the variance options")
    paths = paths or (("exact",) if general else ("exact", "sampled"))

    print_problem_warnings(given, args)
    from deep.linear import crosscheck as cc
    from deep.linear.betas import near_threshold
    from deep.linear.report import format_result
    from deep.linear.train import NEWTON_MAX_PARAMS
    from numerics.model import parameter_count
    N, k = data.N, data.k
    if parameter_count(N, k) > NEWTON_MAX_PARAMS:
        print(f"warning: {parameter_count(N, k)} parameters (> {NEWTON_MAX_PARAMS}): path (a) finishes with Hessian-vector "
              "products (truncated Newton, Lanczos saddle test) and may be slow or stop short of the optimum on "
              "ill-conditioned problems; path (b) gets no Newton refinement (Adam's average is returned) and no "
              "Monte-Carlo prediction", file=sys.stderr)
    if betas is not None:
        for b in betas:
            if not TRUSTED_BETAS[0] <= b <= TRUSTED_BETAS[1]:
                print(f"warning: beta = {b:g} is outside {TRUSTED_BETAS[0]:g} <= beta <= {TRUSTED_BETAS[1]:g}, where "
                      "path (a) was measured to reach the closed form; the posterior variances scale with beta and "
                      "the training problem is ill-conditioned, so it may stop short (reported, exit status 1)",
                      file=sys.stderr)
        for b in near_threshold(betas, data):
            print(f"warning: beta = {b:g} sits on a collapse threshold: the optimum is degenerate there "
                  "(d_i -> 0) and converges slowly", file=sys.stderr)
    if seeds is None:
        seeds = 2 if args.quick else 3
    notes = _notes(given) if general else []
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    result = cc.run_crosscheck(data if general else given.problem.A, betas, seeds, paths=paths, quick=args.quick,
                               seed=train_seed, sampled_steps=steps, refine_samples=refine_samples,
                               progress=not args.json)
    if args.plot is not None:
        from deep.linear.plot import plot_crosscheck
        with plot_errors(args.plot):
            plot_crosscheck(result, data if general else given.problem.A, args.plot,
                            title=f"crosscheck: {given.description}")
    ok_exact = "exact" not in paths or (math.isfinite(result.max_relative_error) and result.max_relative_error <= EXACT_TOL)
    ok = ok_exact and result.gradient_check["passed"]
    if args.json:
        doc = result.to_json()
        name = given.problem.name if given.problem is not None else "covariance"
        doc["problem"] = {**doc["problem"], "name": name, "description": given.description}
        doc["environment"] = {**doc["environment"], "verify_version": __version__}
        doc["ok"] = ok
        doc["exact_tolerance"] = EXACT_TOL
        if general:
            doc["notes"] = notes
        training = [int(x) for x in result.environment.get("seeds", [])]
        print(command_json(doc, invocation, seeds={**given.seeds, "training": training,
                                "gradient_check_points": training[0] if training else None},
                    precision={"training": "torch float64", "closed_form": "float64 (numpy)"},
                    inputs=given.inputs))
    else:
        print(format_result(result, given.description))
        if args.plot is not None:
            print(f"wrote {args.plot}")
    if not ok_exact:
        print(f"crosscheck: path (a) does not reach the closed form: max relative error "
              f"{result.max_relative_error:.3g} > {EXACT_TOL:g}", file=sys.stderr)
    if not result.gradient_check["passed"]:
        print(f"crosscheck: torch gradient differs from the generated gradient "
              f"({result.gradient_check['max_relative_error']:.3g})", file=sys.stderr)
    unconverged = sorted({x.beta for x in result.by_path("sampled")
                          if (x.optimiser.get("refinement") or {}).get("converged") is False})
    if unconverged:
        print("crosscheck: path (b)'s Newton refinement did not converge at beta = "
              f"{', '.join(f'{b:g}' for b in unconverged)} (its z is not Monte-Carlo error alone)", file=sys.stderr)
    return 0 if ok else 1


def _linear_data(given):
    """The network's data: the mixing matrix with the variances, or the --covariance matrix itself (resolve_data has
    checked it)."""
    from deep.linear.metrics import LinearData

    if given.problem is not None:
        return LinearData.from_mixing(given.problem.A, given.variances)
    return LinearData.from_covariance(given.covariance, given.data.k, given.variances)


def _notes(given) -> list[str]:
    from .curve import NO_TRUTH
    notes = ["general model: " + ", ".join(f"{k} = {v:g}" for k, v in given.variances.to_json().items())
             + "; compared with numerics.optimum.general_terms and optimum_parameters; path (a) only"]
    if given.problem is None:
        notes.append(NO_TRUTH)
    elif not given.variances.is_unit:
        notes.append("TIE of the trained encoder against the true posterior of the sources, measured on z / sigma_p "
                     "with x / sigma_eta (the unit-noise gauge of deep.linear.metrics.unit_gauge)")
    return notes
