"""What the optimum needs of the data: the k largest eigenvalues of Sigma_x and the sum of the others.

The closed-form optimum (:mod:`derivations.closed_form`, :mod:`derivations.general_model`) depends on the data only
through the eigen-decomposition of Sigma_x: unit i of the optimum uses the i-th largest eigenvalue lambda_i (and its
eigenvector, for the parameters themselves), and the N - k other eigenvalues enter only through their sum
(``tail``). A :class:`DataSpectrum` holds exactly that, from any of the four inputs:

* :meth:`DataSpectrum.from_mixing`: Sigma_x = A A^T + sigma_eta^2 I_N, from the k x k matrix A^T A (O(N k^2));
  only here is there a ground truth (the sources s), so only here is TIE defined (``mixing``: the eigen-data of
  A^T A / sigma_eta^2, the unit-noise gauge in which TIE has its unit closed form);
* :meth:`DataSpectrum.from_covariance`: any N x N symmetric positive semi-definite matrix (a sample covariance):
  the top-k eigenpairs only (LAPACK's subset driver) and a Cholesky test of semi-definiteness, O(N^3) once;
* :meth:`DataSpectrum.from_spectrum`: the eigenvalues themselves (no eigenvectors: per-unit parameters only);
* :meth:`DataSpectrum.from_samples`: the exact optimum for a finite training set of n draws of x = A s + eta. The
  encoder's log-variance term makes the per-sample objective non-quadratic in x, but at the optimum W_sigma = 0
  for any data distribution (Jensen: for a fixed mean log-variance, a constant one maximises the objective), and
  the rest is quadratic with free biases: the finite-sample objective depends on the data only through their
  mean and their covariance with the 1/n normalisation (not 1/(n - 1)), which is what is used here.

>>> d = DataSpectrum.from_spectrum([0.5, 3.0, 2.0, 0.0], k=2)
>>> d.lam.tolist(), d.tail, d.N, d.k, d.mixing is None
([3.0, 2.0], 0.5, 4, 2, True)
>>> import numpy as np
>>> m = DataSpectrum.from_mixing(np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), noise=0.5)
>>> m.lam.tolist(), m.tail                     # a + sigma_eta^2, and the one noise direction
([4.5, 1.5], 0.5)
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from .input_error import InputError
from .matrix_file import read_matrix_file
from .model import Spectrum, as_mixing_matrix, canonical_signs, spectrum

#: relative tolerance of the symmetry and semi-definiteness tests (a sample covariance computed in float64 is
#: symmetric and semi-definite to ~1e-15 relative; 1e-9 leaves room for a matrix saved as text with 12 digits)
REL_TOL = 1e-9
#: draws per chunk of from_samples (part of the definition of its stream only through the row order, which chunks keep)
CHUNK = 8192
#: largest N for which from_samples accumulates the N x N scatter matrix (128 MiB) instead of keeping the draws
GRAM_MAX_N = 4096
#: numbers from_samples keeps in memory at once beyond the scatter matrix (the sources, or the draws when N is large)
MAX_SAMPLE_ENTRIES = 50_000_000
#: eigenvalues of a --spectrum whose sum would overflow float64 arithmetic in the closed form (lambda / beta)
MAX_EIGENVALUE = 1e150


class DataError(InputError):
    """Invalid data input; ``field`` is ``covariance``, ``spectrum``, ``latents`` or ``samples``."""


@dataclass(frozen=True, eq=False)
class DataSpectrum:
    lam: np.ndarray                 # the k largest eigenvalues of Sigma_x, descending, >= 0
    tail: float                     # the sum of the other N - k eigenvalues
    N: int
    k: int
    eigvecs: np.ndarray | None = None   # N x k eigenvectors of lam, when computed up front (see ``vectors``)
    mixing: Spectrum | None = None      # eigen-data of A^T A / sigma_eta^2 (unit-noise gauge), for TIE
    noise: float | None = None          # sigma_eta^2 where the data come from a mixing matrix
    warnings: tuple[str, ...] = field(default=())
    sampled_from: np.ndarray | None = None   # the true A of from_samples (TIE of that optimum needs the truth)
    mean: np.ndarray | None = None           # the data's mean where it is not 0 (from_samples): b_D at the optimum
    mixing_matrix: np.ndarray | None = None  # A of from_mixing: its eigenvectors are computed only when asked for

    @cached_property
    def vectors(self) -> np.ndarray | None:
        """The N x k eigenvectors of ``lam`` (None when only the eigenvalues were given). For a mixing matrix they are
        formed on first use (an O(N k^2) SVD that a curve of terms never needs), in the basis of ``mixing.Q``: with a
        repeated eigenvalue of A^T A the optimum is a continuum and TIE depends on the member, so the parameters and
        TIE must be those of one and the same member (A = P diag(sigma) Qt, so A Q / sigma = P Qt Q)."""
        if self.eigvecs is not None or self.mixing_matrix is None:
            return self.eigvecs
        P, _, Qt = np.linalg.svd(self.mixing_matrix, full_matrices=False)
        return P @ (Qt @ self.mixing.Q)

    @property
    def has_truth(self) -> bool:
        """Whether a ground-truth posterior of sources exists (only for a mixing matrix): TIE needs it."""
        return self.mixing is not None

    @property
    def trace(self) -> float:
        return float(np.sum(self.lam) + self.tail)

    # ------------------------------------------------------------------------------------------ constructors
    @classmethod
    def from_mixing(cls, A, noise: float = 1.0) -> DataSpectrum:
        """Sigma_x = A A^T + noise I_N for an N x k mixing matrix A (k <= N)."""
        A = as_mixing_matrix(A)
        N, k = A.shape
        of_A = spectrum(A)                           # k x k work: the eigen-data of A^T A
        unit = replace(of_A, a=of_A.a / noise)       # A / sigma_eta's: the unit-noise gauge of TIE
        lam = of_A.a + noise
        notes = _degeneracy_notes(np.concatenate([lam, [noise] if N > k else []]), k, tie=True)
        return cls(lam=lam, tail=(N - k) * noise, N=N, k=k, mixing=unit, noise=noise, warnings=notes,
                   mixing_matrix=A)

    @classmethod
    def from_spectrum(cls, values, k: int) -> DataSpectrum:
        """The eigenvalues of Sigma_x (any order; N is their number)."""
        lam = np.sort(_checked_values(values))[::-1]
        N = lam.size
        k = _checked_latents(k, N)
        notes = _degeneracy_notes(lam, k)
        return cls(lam=lam[:k].copy(), tail=float(np.sum(lam[k:])), N=N, k=k, warnings=notes)

    @classmethod
    def from_covariance(cls, S, k: int) -> DataSpectrum:
        """An N x N symmetric positive semi-definite Sigma_x: its top-k eigenpairs, O(N^3) once.

        ``S`` is consumed (overwritten) when it is a float64 array the caller hands over; pass a copy to keep it.
        """
        import scipy.linalg

        S = np.asarray(S)
        if S.dtype.kind not in "iuf":
            raise DataError("covariance", f"holds {S.dtype} data, expected real numbers")
        S = np.asarray(S, dtype=float)
        if S.ndim != 2 or S.shape[0] != S.shape[1] or S.size == 0:
            raise DataError("covariance", f"expected a non-empty square N x N matrix, got shape {S.shape}")
        N = S.shape[0]
        k = _checked_latents(k, N)
        scale = _check_symmetric_finite(S)
        if scale > MAX_EIGENVALUE:
            raise DataError("covariance", f"entries too large (largest |S_ij| = {scale:.3g} > {MAX_EIGENVALUE:.0e}); "
                            "rescale the data")
        trace = float(np.trace(S))
        # one eigenpair beyond the k-th (when there is one) tells whether the k-th is repeated across the cut
        first = max(N - k - 1, 0)
        lam, vectors = scipy.linalg.eigh(S, subset_by_index=[first, N - 1], check_finite=False)
        _check_semidefinite(S, scale)        # in place: S is no longer needed
        lam = np.clip(lam[::-1], 0.0, None)  # -1e-16 from rounding of a singular matrix: 0
        vectors = vectors[:, ::-1][:, :k]
        notes = _degeneracy_notes(lam, k)
        lam = lam[:k].copy()
        tail = max(trace - float(np.sum(lam)), 0.0) if N > k else 0.0
        return cls(lam=lam, tail=tail, N=N, k=k, eigvecs=vectors * canonical_signs(vectors), warnings=notes)

    @classmethod
    def from_samples(cls, A, noise: float, samples: int, seed: int) -> DataSpectrum:
        """The sample covariance (1/n, mean removed) of ``samples`` draws x = A s + eta, eta ~ N(0, noise I).

        The draws use ``numpy.random.default_rng([seed, 1])``: first the n x k sources, then the n x N noise, row
        by row (a stream separate from ``--random``'s, which uses ``default_rng(seed)``). Memory stays bounded: for
        N <= :data:`GRAM_MAX_N` the N x N scatter matrix is accumulated over chunks of :data:`CHUNK` draws (pairwise
        merging of centred chunks, exact to rounding), then its top-k eigenpairs are taken as for a covariance;
        for larger N the centred n x N data matrix (n N <= :data:`MAX_SAMPLE_ENTRIES`) gives them by a thin SVD.
        ``mixing`` is None: the closed-form TIE assumes the optimum's eigenvectors are the truth's, which the sample's
        are not; ``sampled_from`` keeps A for a TIE against the true posterior.
        """
        A = as_mixing_matrix(A)
        N, k = A.shape
        if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
            raise DataError("samples", f"must be an integer >= 2, got {samples!r}")
        if samples * k > MAX_SAMPLE_ENTRIES or (N > GRAM_MAX_N and samples * N > MAX_SAMPLE_ENTRIES):
            raise DataError("samples", f"{samples} draws of {N} dimensions need more than {MAX_SAMPLE_ENTRIES:.3g} "
                            f"numbers in memory at once ({MAX_SAMPLE_ENTRIES * 8 / 2**20:.0f} MiB); use fewer samples")
        rng = np.random.default_rng([seed, 1])
        S = rng.standard_normal((samples, k))
        scale = np.sqrt(noise)
        chunks = ((S[i:i + CHUNK] @ A.T + scale * rng.standard_normal((min(CHUNK, samples - i), N)))
                  for i in range(0, samples, CHUNK))
        if N <= GRAM_MAX_N:
            mean, scatter = _scatter(chunks, N)
            import scipy.linalg
            first = max(N - k - 1, 0)
            lam, vectors = scipy.linalg.eigh(scatter / samples, subset_by_index=[first, N - 1], check_finite=False)
            lam, vectors = np.clip(lam[::-1], 0.0, None), vectors[:, ::-1]
            notes = _degeneracy_notes(lam, k)
            trace = float(np.trace(scatter)) / samples
            lam, vectors = lam[:k].copy(), vectors[:, :k]
            tail = max(trace - float(np.sum(lam)), 0.0) if N > k else 0.0
        else:
            X = np.concatenate(list(chunks))
            mean = X.mean(axis=0)
            X -= mean
            X /= np.sqrt(samples)
            _, sv, Vt = np.linalg.svd(X, full_matrices=False)
            lam_all = sv ** 2                                     # min(n, N) eigenvalues; the others are 0
            lam = np.zeros(k)
            m = min(k, lam_all.size)
            lam[:m] = lam_all[:m]
            vectors = np.zeros((N, k))
            vectors[:, :m] = Vt[:m].T
            tail = float(np.sum(lam_all[k:]))
            notes = _degeneracy_notes(np.concatenate([lam, lam_all[k:k + 1]]), k)
        return cls(lam=lam, tail=tail, N=N, k=k, eigvecs=vectors * canonical_signs(vectors), noise=noise,
                   warnings=notes, sampled_from=A, mean=mean)


def _scatter(chunks, N: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and scatter sum_i (x_i - mean)(x_i - mean)^T over row chunks, merged pairwise (Chan, Golub & LeVeque):
    no cancellation between E[x x^T] and mean mean^T."""
    count, mean, scatter = 0, np.zeros(N), np.zeros((N, N))
    for X in chunks:
        n = X.shape[0]
        m = X.mean(axis=0)
        Xc = X - m
        delta = m - mean
        total = count + n
        scatter += Xc.T @ Xc + np.outer(delta, delta) * (count * n / total)
        mean = mean + delta * (n / total)
        count = total
    return mean, scatter


# ---------------------------------------------------------------------------------------------- input files
def load_covariance(path: str | Path) -> np.ndarray:
    """Read an N x N matrix from .npy (no pickle) or .csv (comma-separated numbers)."""
    return read_matrix_file(path, "covariance", DataError, "N x N")


def parse_spectrum(text: str) -> np.ndarray:
    """'5,2,1,1' -> the eigenvalues (finite, >= 0)."""
    try:
        values = [float(v) for v in (text or "").split(",") if v.strip() != ""]
    except ValueError:
        raise DataError("spectrum", f"expected comma-separated numbers, got '{text}'") from None
    return _checked_values(values)


# ---------------------------------------------------------------------------------------------- checks
def _checked_values(values) -> np.ndarray:
    lam = np.asarray(values, dtype=float).ravel()
    if lam.size == 0:
        raise DataError("spectrum", "no eigenvalue given")
    if not np.all(np.isfinite(lam)):
        raise DataError("spectrum", "contains NaN or infinite values")
    if np.any(lam < 0):
        raise DataError("spectrum", f"eigenvalues of a covariance are >= 0, got {float(lam.min()):g}")
    if lam.max() > MAX_EIGENVALUE:
        raise DataError("spectrum", f"eigenvalue {float(lam.max()):.3g} too large (> {MAX_EIGENVALUE:.0e}); rescale")
    return lam


def _checked_latents(k, N: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise DataError("latents", f"must be a positive integer, got {k!r}")
    if k > N:
        raise DataError("latents", f"K = {k} latents exceed N = {N} observed dimensions")
    return int(k)


def _check_symmetric_finite(S: np.ndarray, block: int = 1024) -> float:
    """Finite and symmetric to REL_TOL x max|S_ij|, checked in blocks (no N x N temporary); returns max|S_ij|."""
    N = S.shape[0]
    scale = 0.0
    for i in range(0, N, block):
        rows = S[i:i + block]
        if not np.all(np.isfinite(rows)):
            raise DataError("covariance", "contains NaN or infinite entries")
        scale = max(scale, float(np.abs(rows).max()))
    worst = 0.0
    for i in range(0, N, block):
        for j in range(i, N, block):
            worst = max(worst, float(np.abs(S[i:i + block, j:j + block] - S[j:j + block, i:i + block].T).max()))
    if worst > REL_TOL * max(scale, np.finfo(float).tiny):
        raise DataError("covariance", f"not symmetric: max |S_ij - S_ji| = {worst:.3g} (> {REL_TOL:g} x max |S_ij|)")
    return scale


def _check_semidefinite(S: np.ndarray, scale: float) -> None:
    """S + delta I has a Cholesky factor iff its smallest eigenvalue exceeds -delta (backward-stable test);
    delta = REL_TOL N max|S_ij| allows the rounding of a singular (rank-deficient) sample covariance."""
    import scipy.linalg

    N = S.shape[0]
    delta = REL_TOL * max(scale, np.finfo(float).tiny) * N
    S[np.diag_indices(N)] += delta
    try:
        scipy.linalg.cholesky(S, lower=True, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise DataError("covariance", f"not positive semi-definite: an eigenvalue is below -{delta:.3g} "
                        f"(-{REL_TOL:g} x N x max |S_ij|); a covariance matrix has none") from None


def _degeneracy_notes(lam_desc: np.ndarray, k: int, tie: bool = False) -> tuple[str, ...]:
    lam_desc = np.asarray(lam_desc, dtype=float)
    scale = max(float(lam_desc.max(initial=0.0)), np.finfo(float).tiny)
    gaps = -np.diff(lam_desc[:k + 1])
    if gaps.size and np.any(gaps <= REL_TOL * scale):
        return ("Sigma_x has repeated eigenvalues among its top k (or at the k-th): the optimum is a continuum (the "
                "decoder's columns are determined only up to a rotation within that eigenspace); the objective, "
                "reconstruction, KL, ELBO, log-likelihood and MIE are the same on all of it"
                + ("; TIE is not: it is reported for the one member whose parameters the toolkit returns" if tie else ""),)
    return ()

