"""A real algebraic number enclosed to any number of decimal digits, rigorously (python-flint only, no SymPy).

The number is given as an integer polynomial (highest degree first) and an interval with rational ends that
holds exactly one of its real roots, as :mod:`derivations.exact_beta` characterises the TIE-optimal beta.
Three steps, each of which can refuse (``CertificationError``):

1. the interval is checked to isolate exactly one distinct real root, by a Sturm sequence of the square-free part
   evaluated exactly in rationals (flint ``fmpq_poly``); the caller's word for it is not taken;
2. flint's arb finds the root as a ball (``fmpz_poly.complex_roots``, which proves its balls isolate the roots and
   returns real roots with an exactly zero imaginary part) at enough bits for ``digits`` decimal digits;
3. the ball is rounded outward to two decimals of ``digits`` significant digits, and the pair is certified once more
   without balls: the square-free part changes sign between them (exact rational evaluation), inside the
   isolating interval, so the root lies between them. Where the ball straddles a decimal grid point, the sign there
   decides the side, so ``hi - lo`` is one unit in the last place (zero for a rational root on the grid).

>>> enclose_root([1, 0, -2], (Fraction(1), Fraction(2)), 30)                # sqrt(2)
('1.41421356237309504880168872420', '1.41421356237309504880168872421')
>>> enclose_root([2, -1], (Fraction(0), Fraction(1)), 5)                    # 1/2 exactly
('0.50000', '0.50000')
>>> enclose_root([1, 0, -2], (Fraction(2), Fraction(3)), 5)
Traceback (most recent call last):
...
numerics.ball_beta.CertificationError: the interval [2, 3] holds 0 real roots of the polynomial, not exactly one
"""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import flint

__all__ = ["CertificationError", "enclose_root", "real_roots_in"]

GUARD_BITS = 64            # beyond the bits of `digits` decimal digits, so the ball is far narrower than one ulp
MAX_TRIES = 4              # precision doublings before refusing
MAX_GRID_STEPS = 4         # a ball wider than this many units in the last place is refined by more bits, not bisected


class CertificationError(ValueError):
    """The root could not be certified: the interval does not isolate one root, or the enclosure did not verify."""


def _poly(coefficients) -> flint.fmpz_poly:
    coefficients = list(coefficients)
    if not coefficients or any(isinstance(c, bool) or not isinstance(c, int) for c in coefficients):
        raise ValueError("coefficients must be a non-empty list of Python ints, highest degree first")
    p = flint.fmpz_poly(coefficients[::-1])
    if p.degree() < 1:
        raise ValueError("the polynomial must have degree >= 1")
    return p


def _squarefree(p: flint.fmpz_poly) -> flint.fmpq_poly:
    """p with each distinct root once (p / gcd(p, p')): the Sturm count and the sign test need simple roots."""
    g = p.gcd(p.derivative())
    return flint.fmpq_poly(p) / flint.fmpq_poly(g) if g.degree() > 0 else flint.fmpq_poly(p)


def _sign(s: flint.fmpq_poly, x: Fraction) -> int:
    v = s(flint.fmpq(x.numerator, x.denominator))
    return (v > 0) - (v < 0)


def _variations(sturm, x: Fraction) -> int:
    signs = [v for v in (_sign(f, x) for f in sturm) if v != 0]
    return sum(a != b for a, b in zip(signs, signs[1:]))


def real_roots_in(coefficients, interval) -> int:
    """The number of distinct real roots in the closed interval [lo, hi], exactly (Sturm's theorem).

    >>> real_roots_in([1, 0, -2], (Fraction(-2), Fraction(2))), real_roots_in([1, -2, 1], (Fraction(0), Fraction(1)))
    (2, 1)
    """
    s = _squarefree(_poly(coefficients))
    lo, hi = (Fraction(x) for x in interval)
    if lo > hi:
        raise ValueError(f"empty interval [{lo}, {hi}]")
    sturm = [s, s.derivative()]
    while sturm[-1].degree() > 0:
        r = -(sturm[-2] % sturm[-1])
        if r == 0:
            break
        sturm.append(r)
    # V(a) - V(b) counts the roots in (a, b] for square-free s (at a root a, V(a) = V(a+), as s and s' agree in sign
    # just right of a), so the left end is counted separately
    return int(_sign(s, lo) == 0) + (_variations(sturm, lo) - _variations(sturm, hi) if lo < hi else 0)


def _decimal_exponent(x: Fraction) -> int:
    """floor(log10 |x|) for x != 0, exactly."""
    x = abs(x)
    e = math.floor(math.log10(x.numerator) - math.log10(x.denominator))   # within 1 of the truth
    while Fraction(10) ** e > x:
        e -= 1
    while Fraction(10) ** (e + 1) <= x:
        e += 1
    return e


def _to_decimal(n: int, exponent: int) -> str:
    """n * 10**exponent as a decimal string (positional for moderate exponents), exactly."""
    d = Decimal(f"{n}E{exponent}")      # exact (scaleb would round to 28 digits)
    return format(d, "f") if -50 < d.adjusted() < 50 else str(d)


def _grid(x: Fraction, ulp_exp: int, up: bool) -> int:
    scaled = x / Fraction(10) ** ulp_exp
    return math.ceil(scaled) if up else math.floor(scaled)


def _ball_bounds(ball) -> tuple[Fraction, Fraction]:
    """The exact rational ends of an arb ball (its midpoint and radius are binary rationals)."""
    (m, e), (r, f) = ball.mid().man_exp(), ball.rad().man_exp()
    mid, rad = Fraction(int(m)) * Fraction(2) ** int(e), Fraction(int(r)) * Fraction(2) ** int(f)
    return mid - rad, mid + rad


def _arb_ball(p: flint.fmpz_poly, lo: Fraction, hi: Fraction, bits: int):
    old = flint.ctx.prec
    try:
        flint.ctx.prec = bits
        s = p // p.gcd(p.derivative())
        hits = []
        for root, _ in s.complex_roots():
            if root.imag != 0:       # exactly zero for roots flint has proved real
                continue
            a, b = _ball_bounds(root.real)
            if b >= lo and a <= hi:
                hits.append((a, b))
        return hits
    finally:
        flint.ctx.prec = old


def enclose_root(coefficients: list[int], interval: tuple[Fraction, Fraction], digits: int) -> tuple[str, str]:
    """(lo, hi): decimals of ``digits`` significant digits with lo <= root <= hi, hi - lo at most one ulp.

    ``interval`` must hold exactly one distinct real root of the polynomial (checked); see the module docstring.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive int, got {digits!r}")
    p = _poly(coefficients)
    lo, hi = Fraction(interval[0]), Fraction(interval[1])
    count = real_roots_in(coefficients, (lo, hi))
    if count != 1:
        raise CertificationError(f"the interval [{lo}, {hi}] holds {count} real roots of the polynomial, not exactly one")
    s = _squarefree(p)
    for end in (lo, hi):
        if _sign(s, end) == 0:       # a rational root at an end: known exactly, round it outward
            return _round_exact(end, digits)
    bits = int(digits * math.log2(10)) + GUARD_BITS
    for _ in range(MAX_TRIES):
        hits = _arb_ball(p, lo, hi, bits)
        if len(hits) == 1:
            a, b = hits[0]
            result = _round_certified(s, max(a, lo), min(b, hi), lo, hi, digits)
            if result is not None:
                return result
        bits *= 2
    raise CertificationError(f"could not enclose the root in [{lo}, {hi}] to {digits} digits with flint's arb")


def _round_exact(x: Fraction, digits: int) -> tuple[str, str]:
    if x == 0:
        return "0", "0"
    ulp_exp = _decimal_exponent(x) - digits + 1
    return _to_decimal(_grid(x, ulp_exp, False), ulp_exp), _to_decimal(_grid(x, ulp_exp, True), ulp_exp)


def _round_certified(s, a: Fraction, b: Fraction, lo: Fraction, hi: Fraction, digits: int):
    """Round [a, b] (which holds the root) outward to the decimal grid, then tighten and verify it by exact signs."""
    if a <= 0 <= b:                  # the root is 0, or the ball cannot fix the decimal exponent yet (more bits)
        return ("0", "0") if lo <= 0 <= hi and _sign(s, Fraction(0)) == 0 else None
    ulp_exp = min(_decimal_exponent(a), _decimal_exponent(b)) - digits + 1
    n_lo, n_hi = _grid(a, ulp_exp, False), _grid(b, ulp_exp, True)
    if n_hi - n_lo > MAX_GRID_STEPS:
        return None                  # the ball is wider than a few ulps: more bits
    at = lambda n: Fraction(n) * Fraction(10) ** ulp_exp        # noqa: E731
    # every sign below is taken inside the isolating interval, where the square-free part has one simple root
    clip = lambda n: min(max(at(n), lo), hi)                     # noqa: E731
    s_lo, s_hi = _sign(s, clip(n_lo)), _sign(s, clip(n_hi))
    for n, sign in ((n_lo, s_lo), (n_hi, s_hi)):
        if sign == 0:                # the root itself (rational): the only zero in the interval
            return _round_exact(clip(n), digits)
    if s_lo == s_hi:
        return None
    while n_hi - n_lo > 1:           # bisect on the grid by exact signs
        mid = (n_lo + n_hi) // 2
        s_mid = _sign(s, clip(mid))
        if s_mid == 0:
            return _round_exact(clip(mid), digits)
        if s_mid == s_lo:
            n_lo = mid
        else:
            n_hi = mid
    return _to_decimal(n_lo, ulp_exp), _to_decimal(n_hi, ulp_exp)
