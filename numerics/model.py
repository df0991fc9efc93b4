"""The tractable beta-VAE's vocabulary (Section IV.B), defined once: its parameters, the terms of its
objective at one beta, the spectrum of a mixing matrix, and the paper's two problems.

* :class:`Parameters`: the six arrays (W_mu, b_mu, W_sigma, b_sigma, D, b_D) of eq. (20) and the decoder,
  biases as column arrays (k x 1, N x 1): the layout of the code generated from SymPy
  (``numerics.generated``), so ``gen.objective(*params, Sigma, beta)`` takes a record as it is.
  :func:`parameter_count` is their number, 3 k N + 2 k + N; :func:`flatten` / :func:`unflatten` pack them
  into one vector (row-major, in :data:`NAMES` order), real or complex.
* :class:`Terms`: reconstruction, KL, ELBO, objective (eq. 21 with every constant), log-likelihood, MIE
  and TIE at one beta.
* :class:`Spectrum`: the eigen-data of A^T A (descending, a fixed sign gauge) and its collapse thresholds
  beta = 1 + a_j (where unit j collapses).
* :func:`paper_mixing` (Section IV.B: A_ij = (1 + delta_ij) / 2, N = 128, k = 2) and :func:`fig3_mixing`
  (Fig. 3: A_ij = 2 delta_ij + 0.73, N = k = 2), as float arrays or, with ``exact=True``, as exact
  rationals (0.73 is not a binary float: the exact Fig. 3 matrix has 73/100 where the float one has the
  double nearest to it).

>>> parameter_count(N=3, k=2), [s for s in parameter_shapes(3, 2)][:2]
(25, [(2, 3), (2, 1)])
>>> p = Parameters.zeros(N=3, k=2)
>>> p.flatten().shape, Parameters.unflatten(p.flatten(), 3, 2) == p
((25,), True)
>>> q = Parameters.of(p.W_mu, p.b_mu[:, 0], p.W_sigma, p.b_sigma[:, 0], p.D, p.b_D[:, 0])   # 1-D biases (torch's)
>>> q == p, q.b_mu.shape
(True, (2, 1))
>>> spectrum(fig3_mixing()).collapse_thresholds.round(4).tolist()     # beta = 1 + a_j, ascending
[5.0, 12.9716]
>>> fig3_mixing(exact=True)[0]
(Fraction(273, 100), Fraction(73, 100))
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction

import numpy as np

NAMES = ("W_mu", "b_mu", "W_sigma", "b_sigma", "D", "b_D")


# ---------------------------------------------------------------------------------------------- parameters
def parameter_shapes(N: int, k: int) -> tuple[tuple[int, int], ...]:
    """Shapes of (W_mu, b_mu, W_sigma, b_sigma, D, b_D), biases as columns (as in ``generated``)."""
    return ((k, N), (k, 1), (k, N), (k, 1), (N, k), (N, 1))


def parameter_count(N: int, k: int) -> int:
    """Number of parameters of the model with N observed dimensions and k latents: 3 k N + 2 k + N."""
    return 3 * k * N + 2 * k + N


def latent_count(n_parameters: int, N: int) -> int:
    """The k for which :func:`parameter_count` (N, k) is ``n_parameters`` (N observed dimensions)."""
    return (n_parameters - N) // (3 * N + 2)


def flatten(arrays) -> np.ndarray:
    """Six arrays (in ``NAMES`` order) -> one vector (row-major), real or complex."""
    return np.concatenate([np.asarray(p).ravel() for p in arrays])


def unflatten(theta, N: int, k: int) -> tuple[np.ndarray, ...]:
    """One vector -> six arrays (copies) in ``NAMES`` order."""
    theta = np.asarray(theta)
    if theta.shape != (parameter_count(N, k),):
        raise ValueError(f"parameter vector must have length {parameter_count(N, k)} for N={N}, k={k}, "
                         f"got {theta.shape}")
    out, pos = [], 0
    for shp in parameter_shapes(N, k):
        m = shp[0] * shp[1]
        out.append(theta[pos:pos + m].reshape(shp).copy())
        pos += m
    return tuple(out)


def unflatten_batch(thetas, N: int, k: int) -> tuple[np.ndarray, ...]:
    """Rows of ``thetas`` -> six arrays with a leading batch axis (biases as (batch, len))."""
    thetas = np.asarray(thetas)
    out, pos = [], 0
    for i, shp in enumerate(parameter_shapes(N, k)):
        m = shp[0] * shp[1]
        block = thetas[:, pos:pos + m]
        out.append(block if i % 2 else block.reshape((thetas.shape[0],) + shp))     # odd: biases
        pos += m
    return tuple(out)


@dataclass(frozen=True, eq=False)
class Parameters:
    """The six parameters of the model, biases as column arrays; unpacks as the six arrays in ``NAMES`` order.

    Equality compares every field's array exactly.
    """

    W_mu: np.ndarray        # k x N
    b_mu: np.ndarray        # k x 1
    W_sigma: np.ndarray     # k x N
    b_sigma: np.ndarray     # k x 1
    D: np.ndarray           # N x k
    b_D: np.ndarray         # N x 1

    @classmethod
    def of(cls, W_mu, b_mu, W_sigma, b_sigma, D, b_D) -> Parameters:
        """A record from six arrays; biases given as vectors (torch's layout) are made columns."""
        W_mu, D = np.asarray(W_mu), np.asarray(D)
        return cls(W_mu=W_mu, b_mu=np.reshape(b_mu, (-1, 1)), W_sigma=np.asarray(W_sigma),
                   b_sigma=np.reshape(b_sigma, (-1, 1)), D=D, b_D=np.reshape(b_D, (-1, 1)))

    @classmethod
    def zeros(cls, N: int, k: int) -> Parameters:
        return cls(*(np.zeros(s) for s in parameter_shapes(N, k)))

    @classmethod
    def unflatten(cls, theta, N: int, k: int) -> Parameters:
        return cls(*unflatten(theta, N, k))

    @property
    def N(self) -> int:
        return self.D.shape[0]

    @property
    def k(self) -> int:
        return self.D.shape[1]

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(W_mu, b_mu, W_sigma, b_sigma, D, b_D)."""
        return tuple(getattr(self, name) for name in NAMES)

    def __iter__(self):
        return iter(self.arrays())

    def flatten(self) -> np.ndarray:
        return flatten(self.arrays())

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return all(np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None


# ---------------------------------------------------------------------------------------------- terms
@dataclass(frozen=True)
class Terms:
    """The model's quantities at one beta, averaged over x ~ N(0, A A^T + I), every constant kept.

    Floats at the closed-form optimum (:func:`numerics.optimum.closed_form_terms`, with TIE and the gauge
    alignment behind it); mpmath numbers, without TIE, from :func:`numerics.highprec.terms_mp`.
    """

    beta: float
    reconstruction: float
    kl: float
    elbo: float
    objective: float
    log_likelihood: float
    mie: float
    tie: float | None = None
    permutation: tuple[int, ...] | None = None   # latent j of the optimum compared with source permutation[j]
    signs: tuple[int, ...] | None = None


# ---------------------------------------------------------------------------------------------- spectrum
def as_mixing_matrix(A) -> np.ndarray:
    """A as a float N x k array, k <= N (ValueError otherwise)."""
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[1] > A.shape[0]:
        raise ValueError(f"mixing matrix must be N x k with k <= N, got shape {A.shape}")
    return A


def canonical_signs(Q):
    """Signs that make the largest-magnitude entry of each column of Q positive (a fixed gauge)."""
    idx = np.argmax(np.abs(Q), axis=0)
    return np.where(Q[idx, np.arange(Q.shape[1])] < 0, -1.0, 1.0)


@dataclass(frozen=True)
class Spectrum:
    """Eigen-data of A^T A (descending) and the dimensions: all the closed form needs (k x k work)."""

    a: np.ndarray
    Q: np.ndarray
    N: int
    k: int

    @property
    def collapse_thresholds(self) -> np.ndarray:
        """beta = lambda_j = 1 + a_j, ascending: unit j collapses (d_j = 0) for every beta >= lambda_j."""
        return np.sort(1.0 + self.a)

    @property
    def smallest_safe_beta(self) -> float:
        """The smallest beta whose float64 evaluation is safe for this spectrum.

        KL and TIE contain ln(lambda_i / beta); below lambda_max * 2**-1000 that ratio approaches the
        float64 overflow, so such betas are refused rather than answered with inf.
        """
        return float(np.max(1.0 + self.a, initial=1.0)) * 2.0 ** -1000


def spectrum(A) -> Spectrum:
    """Eigen-decomposition of the k x k matrix A^T A; O(N k^2) time, no N x N or N x k temporaries."""
    A = as_mixing_matrix(A)
    a, Q = np.linalg.eigh(A.T @ A)
    order = np.argsort(a)[::-1]
    Q = Q[:, order]
    return Spectrum(a=np.clip(a[order], 0.0, None), Q=Q * canonical_signs(Q), N=A.shape[0], k=A.shape[1])


# ---------------------------------------------------------------------------------------------- the paper's problems
PAPER_N, PAPER_K = 128, 2
FIG3_DIAGONAL, FIG3_OFFSET = Fraction(2), Fraction(73, 100)


def paper_mixing(N: int = PAPER_N, k: int = PAPER_K, *, exact: bool = False):
    """Section IV.B: A_ij = (1 + delta_ij) / 2 (N x k floats; exact: rows of Fractions)."""
    if exact:
        return tuple(tuple(Fraction(1 + (i == j), 2) for j in range(k)) for i in range(N))
    return 0.5 * (np.ones((N, k)) + np.eye(N, k))


def fig3_mixing(diagonal=FIG3_DIAGONAL, offset=FIG3_OFFSET, *, exact: bool = False):
    """Fig. 3: A_ij = diagonal delta_ij + offset, N = k = 2 (the paper's 2 and 0.73 by default).

    Floats: the doubles nearest to ``diagonal`` and ``offset``; exact: rows of Fractions (pass decimal
    strings or Fractions for values that are not binary floats).
    """
    if exact:
        d, c = Fraction(diagonal), Fraction(offset)
        return tuple(tuple(d * (i == j) + c for j in range(2)) for i in range(2))
    return float(diagonal) * np.eye(2) + float(offset)
