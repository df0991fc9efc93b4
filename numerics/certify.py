"""Certified digits: a computation run at two working precisions keeps only the digits both runs agree on.

:func:`certify` runs the TIE-envelope analysis (:mod:`numerics.tie_envelope`) at ``digits + 20`` and
``digits + 40`` decimal digits (:data:`WORKING_EXTRA_DIGITS`). It accepts the pair when both find the same
structure (the same kind of global minimum and the same number of local minima, each agreeing to ``digits``
digits) and the global minimiser and minimum agree to ``digits`` digits, as numbers
(:func:`agreeing_digits`) and as printed strings (:func:`format_significant`). Otherwise it retries at
higher precision (:data:`RETRIES` times) and then refuses (:class:`PrecisionError`).

>>> import mpmath
>>> lo, hi = mpmath.MPContext(), mpmath.MPContext()
>>> lo.dps, hi.dps = 30, 50
>>> agreeing_digits(hi, lo.pi, hi.pi, cap=100)     # pi at 30 and at 50 digits (30 digits carry 103 bits)
31
>>> format_significant(hi, hi.mpf(1) / 8, 5), format_significant(hi, hi.inf, 5)
('0.12500', 'inf')
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .tie_envelope import TieEnvelope
    from .tie_minima import EnvelopeSolution

WORKING_EXTRA_DIGITS = (20, 40)      # working precisions: digits + 20 and digits + 40 decimal digits
RETRIES = 2                          # further attempts, each 40 digits higher, before refusing


class PrecisionError(RuntimeError):
    """Fewer than the requested digits could be confirmed by the two working precisions."""


def format_significant(ctx, x, digits: int) -> str:
    """``x`` (a number of the mpmath context ``ctx``) with ``digits`` significant digits, never in exponent form."""
    if ctx.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    s = ctx.nstr(x, digits, strip_zeros=False, min_fixed=-ctx.inf, max_fixed=ctx.inf)
    return s[:-1] if s.endswith(".") else s


def agreeing_digits(ctx_hi, x_lo, x_hi, cap: int) -> int:
    """Number of significant decimal digits on which two computations agree (capped at ``cap``)."""
    if ctx_hi.isinf(x_hi) or ctx_hi.isinf(x_lo):
        return cap if x_lo == x_hi else 0
    d = abs(ctx_hi.mpf(x_lo) - x_hi)
    if d == 0:
        return cap
    ref = abs(x_hi)
    if ref == 0:
        return max(0, min(cap, int(math.floor(-float(ctx_hi.log10(d))))))
    return max(0, min(cap, int(math.floor(-float(ctx_hi.log10(d / ref))))))


@dataclass(frozen=True)
class Certified:
    """The two accepted runs; the numbers reported are the higher precision's."""

    low: TieEnvelope
    high: TieEnvelope
    low_solution: EnvelopeSolution
    high_solution: EnvelopeSolution
    confirmed_digits: int


def certify(solve_at: Callable[[int], tuple[TieEnvelope, EnvelopeSolution]], digits: int) -> Certified:
    """Run ``solve_at(dps)`` at two working precisions until ``digits`` digits are confirmed (see the module)."""
    extra = list(WORKING_EXTRA_DIGITS)
    for _ in range(RETRIES + 1):
        dps_lo, dps_hi = digits + extra[0], digits + extra[1]
        (s_lo, r_lo), (s_hi, r_hi) = solve_at(dps_lo), solve_at(dps_hi)
        ctx = s_hi.ctx
        cap = dps_lo - 5
        b_lo, b_hi = r_lo.best, r_hi.best
        same_structure = (b_lo.kind == b_hi.kind and len(r_lo.minima) == len(r_hi.minima))
        conf = min(agreeing_digits(ctx, b_lo.beta, b_hi.beta, cap), agreeing_digits(ctx, b_lo.tie, b_hi.tie, cap))
        if same_structure:
            for m_lo, m_hi in zip(r_lo.minima, r_hi.minima):
                conf_m = min(agreeing_digits(ctx, m_lo.beta, m_hi.beta, cap),
                             agreeing_digits(ctx, m_lo.tie, m_hi.tie, cap))
                if conf_m < digits:
                    same_structure = False
        strings_agree = all(format_significant(s_lo.ctx, x_lo, digits) == format_significant(ctx, x_hi, digits)
                            for x_lo, x_hi in ((b_lo.beta, b_hi.beta), (b_lo.tie, b_hi.tie)))
        if same_structure and conf >= digits and strings_agree:
            return Certified(low=s_lo, high=s_hi, low_solution=r_lo, high_solution=r_hi, confirmed_digits=conf)
        extra = [extra[1], extra[1] + 40]
    raise PrecisionError(f"only {conf} digits of beta*/TIE* agree between {dps_lo} and {dps_hi} working digits "
                         f"(requested {digits}); refusing to print unconfirmed digits")
