"""Hypothesis strategies for the proof checks, composed from small pieces.

Problems of the tractable model (mixing matrices, betas), fixed decoders (Section IV.A) and the
abstract objectives O(kappa; beta) = A(kappa) - beta B(kappa) of Proposition 4.

>>> from hypothesis import find
>>> A = find(mixing_matrices(max_n=4, max_k=2), lambda A: A.shape == (3, 2))
>>> A.shape
(3, 2)
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

# entries on a grid of 1/8: exact in binary, so a counterexample prints exactly as it was used
ENTRY = st.integers(-24, 24).map(lambda n: n / 8)


@st.composite
def dimensions(draw, max_n: int = 8, max_k: int = 3):
    k = draw(st.integers(1, max_k))
    n = draw(st.integers(k, max(k, max_n)))
    return n, k


@st.composite
def mixing_matrices(draw, max_n: int = 8, max_k: int = 3):
    """An N x k mixing matrix A (k <= N), entries in [-3, 3] on a grid of 1/8; zero and repeated
    spectra are allowed (the propositions claim nothing that excludes them)."""
    n, k = draw(dimensions(max_n, max_k))
    return np.array(draw(st.lists(ENTRY, min_size=n * k, max_size=n * k)), dtype=float).reshape(n, k)


@st.composite
def orthogonal_column_matrices(draw, max_n: int = 8, max_k: int = 3):
    """A mixing matrix whose columns have disjoint supports (so A^T A is diagonal: the posterior factorises)."""
    n, k = draw(dimensions(max_n, max(2, max_k)))
    owner = draw(st.permutations(list(range(k)) + draw(st.lists(st.integers(0, k - 1), min_size=n - k, max_size=n - k))))
    A = np.zeros((n, k))
    for row, col in enumerate(owner):
        A[row, col] = draw(ENTRY.filter(lambda v: v != 0))
    return A


def betas(lo: float = -3.0, hi: float = 4.0):
    """beta = e^t, t uniform in [lo, hi] (beta from ~0.05 to ~55), rounded to 1/64 in t."""
    return st.integers(int(lo * 64), int(hi * 64)).map(lambda t: float(np.exp(t / 64)))


@st.composite
def beta_pairs(draw, lo: float = -3.0, hi: float = 4.0):
    """beta1 < beta2."""
    b1, b2 = sorted(draw(st.lists(betas(lo, hi), min_size=2, max_size=2, unique=True)))
    return b1, b2


@st.composite
def fixed_decoders(draw, max_n: int = 6, max_k: int = 3):
    """A decoder D (N x k) that is never trained (Section IV.A)."""
    return draw(mixing_matrices(max_n, max_k))


@st.composite
def finite_objectives(draw, max_size: int = 8):
    """A finite parameter set kappa = 0..m-1 with values (A(kappa), B(kappa)); small integers, so ties
    between candidates (equal objective at some beta) are common."""
    m = draw(st.integers(1, max_size))
    pairs = draw(st.lists(st.tuples(st.integers(-6, 6), st.integers(-6, 6)), min_size=m, max_size=m))
    return [(Fraction(a), Fraction(b)) for a, b in pairs]


def rational_betas():
    """beta > 0 as an exact fraction (p/q), so ties in Proposition 4 are decided exactly."""
    return st.tuples(st.integers(1, 40), st.integers(1, 8)).map(lambda t: Fraction(*t))


@st.composite
def rational_beta_pairs(draw):
    b1, b2 = sorted(draw(st.lists(rational_betas(), min_size=2, max_size=2, unique=True)))
    return b1, b2


@st.composite
def polynomial_families(draw):
    """A smooth one-parameter family: A(kappa) = -kappa^4 + c3 kappa^3 + c2 kappa^2 + c1 kappa,
    B(kappa) = kappa^2 + b1 kappa (so O = A - beta B is bounded above for every beta > 0 and has a
    global maximiser). Returned as coefficient lists, highest degree first."""
    c = draw(st.lists(st.integers(-8, 8), min_size=3, max_size=3))
    b1 = draw(st.integers(-4, 4))
    return [-1, c[0], c[1], c[2], 0], [0, 0, 1, b1, 0]
