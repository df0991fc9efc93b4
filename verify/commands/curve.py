"""``curve``: the quantities at the closed-form optimum along a beta grid (Fig. 1); ``--plot`` writes the figure.

Any data (a mixing matrix, ``--covariance``, ``--spectrum``, ``--samples``) and variances (``--noise-variance``,
``--decoder-variance``, ``--prior-variance``); ``--parameters`` adds the optimum unit by unit to every row. beta = 0 is
the limit beta -> 0+ (KL, MIE and TIE infinite, said on stderr).

>>> from verify.cli import main
>>> main(["curve", "--betas", "0.5,2", "--problem", "fig3"])      # doctest: +ELLIPSIS
Fig. 3: ...
0
"""
from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from ..output import command_json
from .problem_options import add_problem_arguments, print_problem_warnings, resolve_data, warn_at_thresholds
from .usage import UsageError, check_plot_option, plot_errors

NO_TRUTH = ("TIE is null: with a covariance or a spectrum there are no sources, so no ground-truth posterior to "
            "compare with (TIE needs a mixing matrix)")
BETA_ZERO_LIMIT = ("beta = 0 is the limit beta -> 0+: the optimal encoder variance vanishes (log-variance -inf, not "
                   "attained); the objective and the reconstruction are finite, and so is the log-likelihood of the "
                   "limiting decoder")


def _beta_flag(args) -> str:
    return "--betas" if args.betas is not None else "--grid" if args.grid is not None else "--loggrid"


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--betas", metavar="B1,B2,...", help="comma-separated beta values (>= 0)")
    which.add_argument("--grid", metavar="LO:HI:N", help="N evenly spaced betas from LO to HI (>= 0)")
    which.add_argument("--loggrid", metavar="LO:HI:N", help="N geometrically spaced betas (default 0.05:200:100)")
    parser.add_argument("--plot", metavar="FILE.png", help="write Fig. 1 panels A-D and the log-likelihood (E)")
    parser.add_argument("--parameters", action="store_true",
                        help="each row also carries the optimum unit by unit: eigenvalue, decoder gain, encoder gain, "
                             "encoder standard deviation, collapsed")
    add_problem_arguments(parser, data=True)


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
    given = resolve_data(args)
    try:
        curve = beta_curve(given.data, betas, given.variances, parameters=args.parameters)
    except ValueError as err:
        raise UsageError(f"{_beta_flag(args)}: {err}") from None
    notes = []
    if given.data.sampled_from is not None:
        curve = _with_finite_sample_tie(curve, given)
        notes.append("TIE of the finite-sample optimum against the true posterior of the sources (the encoder uses the "
                      "sample's eigenvectors), aligned by the best signed permutation (exact up to k = 10)")
    elif not given.data.has_truth:
        notes.append(NO_TRUTH)
    if (curve.betas == 0).any():
        notes.append(_beta_zero_note(curve))
    if not given.variances.is_unit:
        notes.append("general model: " + ", ".join(f"{k} = {v:g}" for k, v in given.variances.to_json().items())
                     + "; TIE is measured on z / sigma_p (the prior variance only rescales z)")
    print_problem_warnings(given, args)
    warn_at_thresholds(curve.betas, curve.collapse_thresholds, paper_model=_paper_model(given),
                       tie=curve.terms[0].tie is not None)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    records = curve.to_json()
    if args.plot is not None:
        with plot_errors(args.plot):
            plot_curve(curve, args.plot, title=given.description)
    if args.json:
        print(command_json({"rows": records, "notes": notes, "variances": given.variances.to_json(),
                            "collapse_thresholds": curve.collapse_thresholds.tolist()} if _general(args, given)
                           else records, invocation, seeds=given.seeds,
                           precision={"closed_form": "float64 (numpy)"}, inputs=given.inputs))
    else:
        print(f"{given.description}; collapse thresholds beta = "
              + (", ".join(f"{t:.6g}" for t in curve.collapse_thresholds) or "none (no eigenvalue above 0)"))
        header = ("beta", "reconstruction", "kl", "elbo", "log_likelihood", "mie", "tie")
        print("  ".join(f"{h:>14}" for h in header))
        for r in records:
            print("  ".join(_cell(r[h]) for h in header))
            if args.parameters:
                p = r["parameters"]
                print("    decoder gain " + " ".join(f"{v:.6g}" for v in p["decoder_gain"])
                      + " | encoder std " + " ".join(f"{v:.6g}" for v in p["encoder_std"])
                      + " | collapsed " + "".join("x" if c else "." for c in p["collapsed"]))
        if args.plot is not None:
            print(f"wrote {args.plot}")
    return 0


def _paper_model(given) -> bool:
    return given.variances.is_unit and given.data.has_truth and given.data.sampled_from is None


def _beta_zero_note(curve) -> str:
    """The beta = 0 note, from the row itself: which quantities came out infinite (a spectrum of zeros has none)."""
    row = curve.terms[int(np.flatnonzero(curve.betas == 0)[0])]
    infinite = [name for name in ("kl", "mie", "tie") if getattr(row, name) is not None
                and math.isinf(getattr(row, name))]
    names = [n.upper() if n != "kl" else "KL" for n in infinite]
    said = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
    return (BETA_ZERO_LIMIT + (f"; the {said} {'is' if len(infinite) == 1 else 'are'} infinite" if infinite else
                               "; no unit carries signal (every eigenvalue is 0), so nothing is infinite"))


def _general(args, given) -> bool:
    """Whether the JSON is the general document (rows + notes + variances) rather than the paper's list of rows:
    any input or option beyond the paper's model, so that the paper's ``curve --json`` keeps its shape."""
    return bool(not given.variances.is_unit or not given.data.has_truth or given.data.sampled_from is not None
                or args.parameters)


def _cell(v) -> str:
    if v is None:
        return f"{'null':>14}"
    if isinstance(v, float) and math.isinf(v):
        return f"{'inf' if v > 0 else '-inf':>14}"
    return f"{v:>14.8g}"


def _with_finite_sample_tie(curve, given):
    """TIE of each finite-sample optimum against the true posterior, in the unit-noise, unit-prior gauge (x / sigma_eta,
    z / sigma_p) where deep.linear.metrics measures a network's TIE (``unit_gauge``)."""
    import dataclasses

    from deep.linear.metrics import LinearData, aligned_tie, unit_gauge
    from numerics.optimum import optimum_parameters

    truth = LinearData.from_mixing(given.data.sampled_from, given.variances)
    terms = []
    for t in curve.terms:
        if t.beta == 0:
            terms.append(dataclasses.replace(t, tie=math.inf))
            continue
        unit, A_unit = unit_gauge(optimum_parameters(given.data, t.beta, given.variances), truth)
        r = aligned_tie(unit, A_unit)
        terms.append(dataclasses.replace(t, tie=r.tie, permutation=tuple(r.alignment.permutation),
                                         signs=tuple(r.alignment.signs)))
    return dataclasses.replace(curve, terms=tuple(terms))
