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
    parser.add_argument("--certify", action="store_true",
                        help="also enclose beta* rigorously (flint ball arithmetic) as a root of its integer polynomial; "
                             "a float matrix is taken at its exact binary values")
    add_problem_arguments(parser, variances=True)


def _exact_matrix(problem):
    """A as exact Fractions: the problem's rationals where known, else its float64 entries at their binary values."""
    return problem.exact if problem.exact is not None else tuple(tuple(Fraction(float(x)) for x in row)
                                                                 for row in problem.A)


def _exact_for(args, problem, beta_star):
    """SymPy's exact characterisation of beta* where the problem is known as exact rationals (None otherwise); with
    --certify also for a float matrix (its binary values). The ExactBetaResult comes back under "result"."""
    if args.no_exact or (problem.exact is None and not args.certify):
        return None, "not attempted (only for the rational problems paper and fig3)" if not args.no_exact else "--no-exact"
    import sympy as sp

    from derivations import exact_beta
    from numerics.ball_beta import enclose_root
    A = sp.Matrix([[sp.Rational(x.numerator, x.denominator) for x in row] for row in _exact_matrix(problem)])
    res = exact_beta.exact_optimal_beta(A, beta_star)
    digits = _significant(beta_star)
    # the root's digits from flint's enclosure, not CRootOf.evalf: SymPy's root preprocessing factors the
    # coefficients' integers, minutes for the 100-bit-plus coefficients of a float matrix's binary values
    coefficients, interval = _algebraic(res)
    value, _ = enclose_root(coefficients, interval, digits + 10)
    return {"polynomial": str(res.polynomial.as_expr()), "interval": [str(res.interval[0]), str(res.interval[1])],
            "kind": res.kind, "root": f"CRootOf({res.polynomial.as_expr()}, {res.index})", "value": value,
            "agrees_with_mpmath": _agree(value, beta_star), "result": res}, None


def _algebraic(res):
    """The ExactBetaResult's polynomial as Python ints (highest degree first) and its interval as Fractions."""
    return ([int(c) for c in res.polynomial.all_coeffs()],
            tuple(Fraction(int(x.p), int(x.q)) for x in res.interval))


def _certified(res, beta_star: str, digits: int):
    """flint's rigorous enclosure of the exact root, and the mpmath digits checked to lie within it (to their last digit)."""
    from decimal import Decimal

    from numerics.ball_beta import enclose_root
    coefficients, interval = _algebraic(res)
    lo, hi = enclose_root(coefficients, interval, digits)
    # beta_star is rounded at its own last digit: allow one unit there
    ulp = Fraction(10) ** (Decimal(beta_star).adjusted() - _significant(beta_star) + 1)
    inside = Fraction(lo) - ulp <= Fraction(beta_star) <= Fraction(hi) + ulp     # exact (Decimal arithmetic rounds)
    return {"enclosure": {"lo": lo, "hi": hi},
            "algebraic": {"polynomial": coefficients, "interval": [str(interval[0]), str(interval[1])]}}, inside


SHOWN_POLYNOMIAL_CHARS = 300      # longer polynomials (a float matrix's binary values) are summarised in the text


def _shown_polynomial(text: str, res) -> str:
    """The polynomial as text, or its degree and coefficient size where it is too long to read (--json has it)."""
    if len(text) <= SHOWN_POLYNOMIAL_CHARS:
        return text
    bits = max(abs(int(c)).bit_length() for c in res.polynomial.all_coeffs())
    return f"an irreducible integer polynomial of degree {res.polynomial.degree()} (coefficients up to {bits} bits; --json lists them)"


def _significant(s: str) -> int:
    return len(s.replace(".", "").replace("-", "").lstrip("0"))


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
    if args.certify:
        if args.no_exact:
            raise UsageError("--certify: needs the exact characterisation, so it cannot be combined with --no-exact")
        if args.noise_variance is not None and Fraction(args.noise_variance.strip()) != 1 or \
                args.decoder_variance is not None and Fraction(args.decoder_variance.strip()) != 1:
            raise UsageError("--certify: not supported yet with --noise-variance or --decoder-variance other than 1")
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
    res = exact["result"] if exact is not None else None
    if args.certify:
        if res is None:
            print(f"optimal-beta: cannot certify: the exact characterisation {why}", file=sys.stderr)
            return 1
        from numerics.ball_beta import CertificationError
        try:
            certificate, inside = _certified(res, result.beta_star, digits)
        except CertificationError as err:
            print(f"optimal-beta: cannot certify: {' '.join(str(err).split())[:300]}", file=sys.stderr)
            return 1
        if not inside:
            print(f"optimal-beta: mpmath's beta* {result.beta_star[:40]}... lies outside the certified enclosure "
                  f"[{certificate['enclosure']['lo'][:40]}..., {certificate['enclosure']['hi'][:40]}...]", file=sys.stderr)
            return 1
    doc = jsonable(result)
    doc["exact"] = {k: v for k, v in exact.items() if k != "result"} if exact is not None else {"skipped": why}
    if args.certify:
        doc.update(certificate)
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
            print(f"exact: beta* is the root of {_shown_polynomial(exact['polynomial'], exact['result'])} in "
                  f"[{exact['interval'][0]}, {exact['interval'][1]}]; agrees with the digits above: "
                  f"{exact['agrees_with_mpmath']}")
        if args.certify:
            print(f"certified (flint ball arithmetic, checked by exact signs): {certificate['enclosure']['lo']} <= beta* "
                  f"<= {certificate['enclosure']['hi']}")
    return 0
