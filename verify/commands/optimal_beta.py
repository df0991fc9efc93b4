"""``optimal-beta``: the TIE-optimal beta to any number of correct digits (mpmath), exact where A is rational.

>>> _agree("1.2345", "1.2346")
True
>>> _agree("1.2345", "1.2399")
False
"""
from __future__ import annotations

import argparse
import sys
import warnings
from fractions import Fraction

from numerics.artifacts import jsonable

from ..output import command_json
from .problem_options import (add_problem_arguments, print_problem_warnings, problem_flag, problem_input,
                              problem_seeds, resolve_problem, resolve_variances)
from .usage import UsageError

DIGITS_RANGE = (1, 1000)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--digits", default="50", metavar="D",
                        help=f"significant digits of beta* and TIE*, {DIGITS_RANGE[0]}..{DIGITS_RANGE[1]} (default 50)")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact algebraic characterisation")
    add_problem_arguments(parser, variances=True)


def _exact_for(args, problem, beta_star):
    """SymPy's exact characterisation of beta* where the problem is known as exact rationals (None otherwise)."""
    if args.no_exact or problem.exact is None:
        return None, "not attempted (only for the rational problems paper and fig3)" if not args.no_exact else "--no-exact"
    import sympy as sp

    from derivations import exact_beta
    A = sp.Matrix([[sp.Rational(x.numerator, x.denominator) for x in row] for row in problem.exact])
    res = exact_beta.exact_optimal_beta(A, beta_star)
    digits = len(beta_star.replace(".", "").replace("-", "").lstrip("0"))
    value = res.root.evalf(digits + 10)
    return {"polynomial": str(res.polynomial.as_expr()), "interval": [str(res.interval[0]), str(res.interval[1])],
            "kind": res.kind, "root": str(res.root), "value": str(value),
            "agrees_with_mpmath": _agree(str(value), beta_star)}, None


def _exact_variance(args, name, value) -> Fraction:
    """A variance as an exact rational from the decimal text the user typed (0.1 is 1/10, not a double)."""
    text = getattr(args, f"{name}_variance", None)
    return Fraction(text.strip()) if text is not None else Fraction(value)


def _tie_beta_factor(args, variances) -> Fraction:
    """sigma_eta^2 / sigma_d^2, exactly: the general model's TIE-related betas are the unit problem's times this."""
    return _exact_variance(args, "noise", variances.noise) / _exact_variance(args, "decoder", variances.decoder)


def _agree(a: str, b: str) -> bool:
    from decimal import Decimal
    da, db = Decimal(a), Decimal(b)
    digits = len(b.replace(".", "").replace("-", "").lstrip("0"))
    return abs(da - db) <= abs(db) * Decimal(10) ** (-(digits - 1))


def run(args, invocation) -> int:
    from numerics.optimal_beta import optimal_beta, rescaled
    from numerics.certify import PrecisionError

    try:
        digits = int(args.digits)
    except ValueError:
        raise UsageError(f"--digits: expected an integer, got '{args.digits}'") from None
    if not DIGITS_RANGE[0] <= digits <= DIGITS_RANGE[1]:
        raise UsageError(f"--digits: must be between {DIGITS_RANGE[0]} and {DIGITS_RANGE[1]}, got {digits}")
    variances = resolve_variances(args)
    problem = resolve_problem(args)
    # 0.73 (Fig. 3) is not a binary float: give mpmath the exact rational matrix where it is known
    A_input = problem.exact if problem.exact is not None else problem.A
    factor = _tie_beta_factor(args, variances)
    noise = _exact_variance(args, "noise", variances.noise)
    try:
        with warnings.catch_warnings():   # the same notes come back in result.warnings, printed once below
            warnings.simplefilter("ignore")
            result = optimal_beta(A_input, digits=digits if factor == 1 else min(digits + 2, DIGITS_RANGE[1]),
                                  noise=noise)
        if factor != 1:
            result = rescaled(result, factor, digits)
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
    if not variances.is_unit:
        print(f"note: general model ({', '.join(f'{k} = {v:g}' for k, v in variances.to_json().items())}): beta* = "
              f"beta*_unit(A / sigma_eta) x sigma_eta^2 / sigma_d^2 = beta*_unit x {factor}; TIE values unchanged; the "
              "prior variance does not move beta*; the collapse thresholds are lambda_i / sigma_d^2", file=sys.stderr)
    try:
        exact, why = (None, "not attempted for a noise or decoder variance other than 1") if factor != 1 or \
            variances.noise != 1.0 else _exact_for(args, problem, result.beta_star)
    except Exception as err:  # the exact route is a cross-check; its failure is reported, not fatal
        exact, why = None, f"failed: {' '.join(str(err).split())[:300]}"
        print(f"warning: exact characterisation {why}", file=sys.stderr)
    doc = jsonable(result)
    doc["exact"] = exact if exact is not None else {"skipped": why}
    doc["variances"] = variances.to_json()
    if args.json:
        print(command_json(doc, invocation, seeds=problem_seeds(args), precision={
            "digits_requested": digits, "digits_confirmed": result.confirmed_digits,
            "mpmath_working_dps": list(result.working_dps), "mpmath_precision_bits": list(result.precision_bits),
            "input": "exact rationals" if problem.exact is not None else
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
