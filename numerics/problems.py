"""Mixing matrices: the paper's problems, a user's file, and a documented random generator, validated.

The paper's matrices themselves are defined in :mod:`numerics.model`; a :class:`Problem` adds a name, a
description, the warnings of :func:`checked` and, for the paper's problems, the exact rational matrix.

>>> p = paper_problem()
>>> p.A.shape, float(p.A[0, 0]), float(p.A[1, 0])
((128, 2), 1.0, 0.5)
>>> fig3_problem().A.tolist()
[[2.73, 0.73], [0.73, 2.73]]
>>> str(fig3_problem().exact[0][1])                # the decimal 0.73, not the double nearest to it
'73/100'
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .input_error import InputError
from .matrix_file import read_matrix_file
from .model import fig3_mixing, paper_mixing


class ProblemError(InputError):
    """Invalid mixing-matrix input. ``field`` says which input was wrong: ``random`` (the shape asked for), ``seed``,
    ``mixing`` (the file) or ``matrix`` (the matrix itself, however it was chosen)."""


@dataclass(frozen=True)
class Problem:
    name: str
    A: np.ndarray
    description: str
    warnings: tuple[str, ...] = field(default=())
    exact: tuple[tuple, ...] | None = None     # the matrix as exact rationals, where it is known (the paper's)

    @property
    def N(self) -> int:
        return self.A.shape[0]

    @property
    def k(self) -> int:
        return self.A.shape[1]


def paper_problem(N: int = 128, k: int = 2) -> Problem:
    """Section IV.B: A_ij = (1 + delta_ij) / 2, N = 128, k = 2."""
    return checked(Problem("paper", paper_mixing(N, k), f"Section IV.B: N={N}, k={k}, A_ij = (1 + delta_ij)/2",
                           exact=paper_mixing(N, k, exact=True)))


def fig3_problem() -> Problem:
    """Fig. 3: N = k = 2, A_ij = 2 delta_ij + 0.73."""
    return checked(Problem("fig3", fig3_mixing(), "Fig. 3: N=k=2, A_ij = 2 delta_ij + 0.73",
                           exact=fig3_mixing(exact=True)))


def random_problem(N: int, k: int, seed: int = 0) -> Problem:
    """Entries i.i.d. N(0, 1) from ``numpy.random.default_rng(seed)``, scaled by 1/sqrt(k).

    The scaling keeps the eigenvalues of A A^T of order N/k, like the paper's problem.
    """
    if N < 1 or k < 1:
        raise ProblemError("random", f"N and k must be positive, got {N}x{k}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ProblemError("seed", f"must be a non-negative integer, got {seed!r}")
    A = np.random.default_rng(seed).standard_normal((N, k)) / np.sqrt(k)
    return checked(Problem(f"random {N}x{k} seed {seed}", A,
                           f"random {N}x{k} mixing matrix, i.i.d. N(0,1)/sqrt(k) entries, seed {seed}"))


# 2.5e8 float64 entries = 1.9 GiB: large problems run (k x k work), a typo does not exhaust memory
MAX_RANDOM_ENTRIES = 250_000_000


def parse_shape(text: str) -> tuple[int, int]:
    """'100000x32' -> (100000, 32)."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text or "")
    if not m:
        raise ProblemError("random", f"expected NxK with positive integers, got '{text}'")
    N, k = int(m.group(1)), int(m.group(2))
    if N < 1 or k < 1:
        raise ProblemError("random", f"N and k must be positive, got '{text}'")
    if N * k > MAX_RANDOM_ENTRIES:
        raise ProblemError("random", f"{N}x{k} has {N * k:.3g} entries ({N * k * 8 / 2**30:.3g} GiB in float64), "
                           f"more than the {MAX_RANDOM_ENTRIES:,} drawn at most; a larger matrix must come from a file")
    return N, k


def load_mixing(path: str | Path) -> Problem:
    """Read an N x k matrix from .npy (no pickle) or .csv (comma-separated numbers).

    A 1-D .npy array of length N is accepted as one column (N x 1, one latent: a single row would have k > N) with
    a warning that states this reading, since the file itself does not say which it meant."""
    A = read_matrix_file(path, "mixing", ProblemError, "N x k")
    notes = ()
    if A.ndim == 1:
        notes = (f"{Path(path).name} holds a 1-D array of length {A.size}, read as a {A.size} x 1 mixing matrix "
                 f"(N = {A.size} observed dimensions, k = 1 latent); save a 2-D array to say otherwise",)
        A = A.reshape(-1, 1)
    return checked(Problem(f"file {Path(path).name}", A, f"mixing matrix from {path}", warnings=notes))


# the closed form forms lambda_i / beta and a_i * lambda_i: A^T A must stay far below float64's 1.8e308
MAX_GRAM = 1e150


def checked(problem: Problem, *, rel_tol: float = 1e-9) -> Problem:
    """Validate shape and values; attach warnings for degenerate but meaningful problems."""
    A = problem.A
    if A.ndim != 2 or A.size == 0:
        raise ProblemError("matrix", f"expected a non-empty N x k matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ProblemError("matrix", "contains NaN or infinite entries")
    N, k = A.shape
    if k > N:
        raise ProblemError("matrix", f"k = {k} latents exceed N = {N} observed dimensions; the closed form "
                           "needs k <= N (A^T A would have k - N zero eigenvalues mixed into the top-k of Sigma_x)")
    notes = list(problem.warnings)
    with np.errstate(over="ignore", invalid="ignore"):
        gram = A.T @ A
    if not np.all(np.isfinite(gram)) or np.abs(gram).max() > MAX_GRAM:
        raise ProblemError("matrix", f"entries too large (largest |A_ij| = {np.abs(A).max():.3g}): "
                           f"A^T A exceeds {MAX_GRAM:.0e}, too close to the float64 overflow; rescale A")
    a = np.linalg.eigvalsh(gram)
    scale = max(float(a.max()), 1.0)
    if np.any(a <= rel_tol * scale):
        notes.append(f"A is rank-deficient (numerically: an eigenvalue a_j of A^T A is below {rel_tol:g} x the "
                     "largest): those latent directions carry (almost) no signal; they collapse for beta >= 1 + a_j "
                     "and do not align with a source")
    gaps = np.diff(np.sort(a))
    if k > 1 and np.any(gaps <= rel_tol * scale):
        notes.append("A^T A has repeated eigenvalues: the optimum is a continuum (rotations within the eigenspace) "
                     "and the alignment of latents to sources is not identifiable")
    return replace(problem, warnings=tuple(notes))
