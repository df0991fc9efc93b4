"""The beta that minimises the gauge-aligned TIE at the beta-VAE optimum, to many certified digits.

TIE at the closed-form optimum (:mod:`derivations.closed_form`, :mod:`numerics.optimum`) is the lower
envelope of smooth branches, one per signed permutation of the latents, with kinks at the collapse
thresholds and where branches cross; :mod:`numerics.tie_envelope` evaluates it and :mod:`numerics.tie_minima`
finds all its local minima and kinks at one working precision. Here (numpy/scipy/mpmath/python-flint, no SymPy):
A is read exactly (:mod:`numerics.exact_algebra`: floats at their binary value, strings and fractions as
rationals; A^T A, its rank and repeated eigenvalues decided exactly, for any k); the analysis runs at
``digits + 20`` and ``digits + 40`` decimal digits and only digits on which both runs agree are returned; if fewer
than ``digits`` agree it is retried at higher precision and then refused (``PrecisionError``, :mod:`numerics.certify`).

MIE at the optimum is >= 0 (an average KL divergence) and vanishes at beta = 1 (the model posterior
is exact) and for every beta >= lambda_max (every unit collapsed, q(z|x) = p(z) = the model
posterior); it is positive elsewhere, so ``mie_optimal_beta`` is 1.

>>> from numerics.model import paper_mixing
>>> r = optimal_beta(paper_mixing(), digits=20)              # the paper's problem
>>> r.beta_star, r.kind
('1.1369043710460202305', 'smooth')
>>> r.local_minima[1].beta, r.local_minima[1].active_units      # one unit collapsed: 261 b^2 + 8 b = 530
('1.4097659817027081732', (0,))
>>> r.mie_optimal_beta
'1'
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from .certify import certify, format_significant
from .exact_algebra import exact_problem, exact_problem_reference
from .gauge import Alignment
from .tie_envelope import FAST, REFERENCE, TieEnvelope, tie_envelope
from .tie_minima import Kink, LocalMinimum, find_minima

__all__ = ["MIN_DIGITS", "MAX_DIGITS", "MAX_TRACE", "OptimalBetaResult", "mie_curve_mp", "optimal_beta",
           "optimal_beta_reference", "rescaled", "tie_curve_mp"]

MIN_DIGITS, MAX_DIGITS = 1, 1000


@dataclass(frozen=True)
class OptimalBetaResult:
    """beta* and TIE* to ``digits`` confirmed digits, and the optimum there.

    ``alignment``: the best signed permutation at beta* (:meth:`numerics.tie_envelope.TieEnvelope.alignment`), with
    ``overlaps`` |Q[permutation_j, j]| (12 digits); ``active_units`` have lambda_j > beta*, ``collapsed_units`` not.
    """

    beta_star: str                       # `digits` significant digits, all confirmed
    tie_star: str
    kind: str                            # "smooth" or "kink"
    detail: str
    alignment: Alignment
    overlaps: tuple[str, ...]             # |Q[permutation_j, j]| at beta* (12 digits)
    local_minima: tuple[LocalMinimum, ...]
    kinks: tuple[Kink, ...]
    collapse_thresholds: tuple[str, ...]  # distinct lambda_j = 1 + a_j, ascending
    eigenvalues: tuple[str, ...]          # a_j, descending
    active_units: tuple[int, ...]         # units with lambda_j > beta*
    collapsed_units: tuple[int, ...]      # units with lambda_j <= beta*
    tie_plateau: str                      # TIE for every beta >= lambda_max
    mie_optimal_beta: str
    mie_minimisers: str
    mie_at_beta_star: str
    digits: int
    working_dps: tuple[int, int]
    precision_bits: tuple[int, int]
    confirmed_digits: int
    warnings: tuple[str, ...]
    seconds: float


def _check_digits(digits):
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)):
        raise ValueError(f"digits must be an integer in [{MIN_DIGITS}, {MAX_DIGITS}], got {digits!r}")
    if not MIN_DIGITS <= int(digits) <= MAX_DIGITS:
        raise ValueError(f"digits must be in [{MIN_DIGITS}, {MAX_DIGITS}], got {digits}")
    return int(digits)


def _solved(ex, dps: int, method: str):
    envelope = TieEnvelope(ex, dps, method)
    return envelope, find_minima(envelope)


# the float64 grid that locates the regimes forms a_i * lambda_i ~ a_i^2: keep it far below 1e308
MAX_TRACE_EXPONENT = 150
MAX_TRACE = Fraction(10) ** MAX_TRACE_EXPONENT


def optimal_beta(A, digits: int = 50, *, noise=1) -> OptimalBetaResult:
    """Global minimiser beta* of the gauge-aligned TIE over beta > 0, with TIE(beta*), to `digits` digits.

    ``noise``: sigma_eta^2, an exact rational (int, Fraction or decimal string): the unit-noise problem is A / sigma_eta,
    whose TIE reads only the Gram matrix A^T A / sigma_eta^2, formed exactly (so a noise variance keeps every digit
    certified); the betas returned are that problem's (see :func:`rescaled` for the general model's).

    A: the N x k mixing matrix (k <= N), as a float/int/object numpy array, a nested list of numbers,
    ``fractions.Fraction`` or decimal strings, or an mpmath matrix. Floats are taken at their exact
    binary value (so 0.73 is not 73/100: pass "0.73" or Fraction(73, 100) for the decimal problem).
    digits: significant digits of every returned number, 1 <= digits <= 1000 (k = 2: 50 digits in ~0.05 s,
    1000 digits in ~2 s; N = 100000, k = 32 floats: ~12 s, mostly the exact Gram matrix).
    Raises ValueError for bad input, PrecisionError if `digits` digits cannot be confirmed.

    Cost beyond k = 4 (random N = 2k, 50 digits, 2 cores): ~0.1 s at k = 16, ~0.5 s at k = 64, ~5 s at k = 256;
    :func:`optimal_beta_reference` is the slower route this replaced (about k^3.6).
    """
    return _optimal_beta(A, digits, noise, exact_problem, FAST)


def optimal_beta_reference(A, digits: int = 50, *, noise=1) -> OptimalBetaResult:
    """:func:`optimal_beta` by the route it had before the fast path (kept to compare with, in the tests and in
    benchmarks/bench_optimal_beta_k.py): the Gram matrix, rank and charpoly in pure Python
    (:func:`numerics.exact_algebra.exact_problem_reference`), mpmath's ``eigsy`` at every working precision, and a grid
    of 1500 float64 linear assignments per regime instead of :func:`numerics.tie_sweep.sweep`.

    >>> from numerics.model import paper_mixing
    >>> optimal_beta_reference(paper_mixing(), digits=20).beta_star == optimal_beta(paper_mixing(), digits=20).beta_star
    True
    """
    return _optimal_beta(A, digits, noise, exact_problem_reference, REFERENCE)


def _optimal_beta(A, digits, noise, read, method) -> OptimalBetaResult:
    digits = _check_digits(digits)
    t0 = time.perf_counter()
    ex = read(A)
    noise = Fraction(noise)
    if noise <= 0:
        raise ValueError(f"noise variance must be > 0, got {noise}")
    if noise != 1:
        ex = replace(ex, A=None, gram=[[g / noise for g in row] for row in ex.gram])
    if sum(ex.gram[i][i] for i in range(ex.k)) > MAX_TRACE:
        raise ValueError(f"mixing matrix too large: trace(A^T A) exceeds 1e{MAX_TRACE_EXPONENT}, beyond what the float64 "
                         "regime search (which multiplies eigenvalues a_i by lambda_i) can represent; rescale A")
    notes = []
    if ex.repeated is None:          # the reference route beyond EXACT_CHARPOLY_MAX_K: decide numerically at 60 digits
        probe = TieEnvelope(ex, 60, method)
        gaps = [probe.a[i] - probe.a[i + 1] for i in range(ex.k - 1)]
        ex = replace(ex, repeated=any(g <= probe.ctx.mpf(10) ** -40 * (1 + probe.a[0]) for g in gaps))
    if ex.repeated:
        msg = ("A^T A has a repeated eigenvalue: the eigenbasis (hence the optimum's gauge and the alignment) "
               "is not identifiable; TIE is computed for the eigenbasis mpmath returns")
        warnings.warn(msg, stacklevel=2)
        notes.append(msg)
    if ex.rank < ex.k:
        notes.append(f"A has rank {ex.rank} < k = {ex.k}: {ex.k - ex.rank} eigenvalue(s) a_j = 0 (threshold beta = 1)")

    certified = certify(lambda dps: _solved(ex, dps, method), digits)
    s_lo, s = certified.low, certified.high
    ctx, r = s.ctx, certified.high_solution
    best = r.best
    # sanity: the envelope is not lower just beside beta*, and TIE >= 0 (it is an average KL divergence)
    dlt = ctx.mpf(10) ** (-(digits // 2 + 5)) * best.beta
    for b in (best.beta - dlt, best.beta + dlt):
        if s.tie(b) < best.tie - s.tol:
            raise RuntimeError("internal check failed: TIE is lower next to the reported minimum")
    if best.tie < -s.tol:
        raise RuntimeError("internal check failed: negative TIE")
    # other local minima with (numerically) the same TIE: beta* is not unique
    ties = [m for m in r.minima if m is not best and abs(m.beta - best.beta) > s.tol * best.beta * 100
            and abs(m.tie - best.tie) <= s.tol * 100 * max(1, abs(best.tie))]
    if ties:
        msg = (f"{len(ties)} other local minim(um/a) with the same TIE to working precision: "
               f"beta* is not unique (the smallest such beta is reported)")
        warnings.warn(msg, stacklevel=2)
        notes.append(msg)
    align = s.alignment(best.beta)
    if align.unique is False:
        notes.append(f"alignment at beta* is not unique: permutations {align.tied_permutations} give the same TIE")
    # MIE: zero at beta = 1 and on [lambda_max, inf), positive elsewhere (checked on a grid)
    lam_max = max(s.lam)
    mie_one = s.mie(ctx.mpf(1))
    if abs(mie_one) > s.tol * 100:
        raise RuntimeError("internal check failed: MIE(1) != 0")
    grid = [ctx.mpf(x) for x in np.concatenate([np.linspace(0.02, 0.98, 25), np.linspace(1.02, 0.999 * float(lam_max), 40)])]
    if any(b < lam_max and abs(b - 1) > 1e-3 and s.mie(b) <= 0 for b in grid):
        raise RuntimeError("internal check failed: MIE <= 0 away from beta = 1 below lambda_max")
    fmt = lambda x: format_significant(ctx, x, digits)  # noqa: E731
    return OptimalBetaResult(
        beta_star=fmt(best.beta), tie_star=fmt(best.tie), kind=best.kind, detail=best.detail,
        alignment=align,
        overlaps=tuple(format_significant(ctx, s.absQ[align.permutation[j]][j], 12) for j in range(s.k)),
        local_minima=tuple(replace(m, beta=fmt(m.beta), tie=fmt(m.tie), permutation=tuple(m.permutation))
                           for m in r.minima),
        kinks=tuple(replace(kk, beta=fmt(kk.beta), left_derivative=format_significant(ctx, kk.left_derivative, 15),
                            right_derivative=format_significant(ctx, kk.right_derivative, 15)) for kk in r.kinks),
        collapse_thresholds=tuple(fmt(L) for L in s.thresholds),
        eigenvalues=tuple(fmt(x) for x in s.a),
        active_units=tuple(s.active(best.beta)),
        collapsed_units=tuple(j for j in range(s.k) if j not in s.active(best.beta)),
        tie_plateau=fmt(s.S0),
        mie_optimal_beta="1",
        mie_minimisers=(f"MIE >= 0 (an average KL divergence); MIE = 0 exactly at beta = 1 and for every "
                        f"beta >= lambda_max = {format_significant(ctx, lam_max, 20)} (all units collapsed); positive elsewhere"),
        mie_at_beta_star=fmt(s.mie(best.beta)),
        digits=digits, working_dps=(s_lo.dps, s.dps), precision_bits=(s_lo.ctx.prec, s.ctx.prec),
        confirmed_digits=certified.confirmed_digits, warnings=tuple(notes), seconds=time.perf_counter() - t0)


# ---------------------------------------------------------------- helpers
def tie_curve_mp(A, beta, dps: int = 50):
    """Gauge-aligned TIE at the optimum for each beta (mpf values at `dps` digits; beta: number, string or list)."""
    if not 5 <= int(dps) <= 5000:
        raise ValueError("dps must be in [5, 5000]")
    s = tie_envelope(A, int(dps))
    betas = beta if isinstance(beta, (list, tuple, np.ndarray)) else [beta]
    out = []
    for b in betas:
        b = s.ctx.mpf(b) if not isinstance(b, Fraction) else s.ctx.mpf(b.numerator) / b.denominator
        if not b > 0:
            raise ValueError("beta must be positive")
        out.append(s.tie(b))
    return out if isinstance(beta, (list, tuple, np.ndarray)) else out[0]


def mie_curve_mp(A, beta, dps: int = 50):
    """MIE at the optimum (mpf, `dps` digits) for one beta or a list."""
    s = tie_envelope(A, int(dps))
    betas = beta if isinstance(beta, (list, tuple, np.ndarray)) else [beta]
    out = [s.mie(s.ctx.mpf(b)) for b in betas]
    return out if isinstance(beta, (list, tuple, np.ndarray)) else out[0]


def rescaled(result: OptimalBetaResult, factor: Fraction, digits: int) -> OptimalBetaResult:
    """The result for the general model, from the unit model's: every TIE-related beta (beta*, the local minima, the
    kinks, the collapse thresholds) times ``factor`` = sigma_eta^2 / sigma_d^2, exactly (mpmath at the result's working
    precision), rounded to ``digits``; TIE values are unchanged (TIE_general(A, beta) = TIE_unit(A / sigma_eta,
    beta sigma_d^2 / sigma_eta^2), :mod:`derivations.general_optimum`), and so is the MIE-optimal beta = 1 (at beta = 1 the
    model posterior is exact whatever the decoder variance). Pass a result computed with ``digits + 2`` digits: the
    product of a d-digit number and an exact rational is then correct to ``digits``.

    >>> from numerics.model import paper_mixing
    >>> r = optimal_beta(paper_mixing(), digits=14)          # beta* = 1.13690437104602023...
    >>> rescaled(r, Fraction(1, 2), 12).beta_star            # sigma_d^2 = 2: half of it
    '0.568452185523'
    """
    import mpmath

    ctx = mpmath.mp.clone()
    ctx.dps = max(result.working_dps) + 10
    f = ctx.mpf(factor.numerator) / factor.denominator

    def scale(text, by=f):
        return text if text in ("inf", "-inf") else format_significant(ctx, ctx.mpf(text) * by, digits)

    def trim(text):          # computed with guard digits: shown with the digits asked for
        return scale(text, 1)

    lam_max = scale(result.collapse_thresholds[-1]) if result.collapse_thresholds else "inf"
    return replace(
        result, beta_star=scale(result.beta_star), tie_star=trim(result.tie_star),
        local_minima=tuple(replace(m, beta=scale(m.beta), tie=trim(m.tie)) for m in result.local_minima),
        kinks=tuple(replace(kk, beta=scale(kk.beta)) for kk in result.kinks),
        collapse_thresholds=tuple(scale(t) for t in result.collapse_thresholds),
        mie_minimisers=("MIE >= 0 (an average KL divergence); MIE = 0 exactly at beta = 1 and for every beta >= "
                        f"lambda_max / sigma_d^2 = {lam_max} (all units collapsed); positive elsewhere"),
        digits=digits, confirmed_digits=min(result.confirmed_digits, digits))
