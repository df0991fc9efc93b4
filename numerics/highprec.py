"""Closed-form quantities at the optimum in arbitrary precision (mpmath), for derivatives in beta.

The per-unit forms are generated from SymPy (``numerics.generated_mp``); the eigenvalues of A^T A
come from the exact Gram matrix (floats read at their binary value) and ``mpmath.eigsy``. Nothing
here is a float finite difference: :func:`d_dbeta` is ``mpmath.diff`` at the working precision (the
digits two precisions agree on are kept by :mod:`numerics.certify`, for the TIE-optimal beta).

>>> from numerics.model import paper_mixing
>>> spec = spectrum_mp(paper_mixing(), dps=40)
>>> [mpmath.nstr(x, 8) for x in spec.lam]          # 1 + eigenvalues of A^T A
['66.25', '1.25']
>>> t = terms_mp(spec, 2)
>>> mpmath.nstr(d_dbeta(lambda b: terms_mp(spec, b).objective, 2, dps=40) + t.kl, 5)   # eq. (10)
'0.0'
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath

from . import generated_mp as gen_mp
from .exact_algebra import exact_problem
from .model import Terms


@dataclass(frozen=True)
class SpectrumMP:
    lam: tuple            # 1 + eigenvalues of A^T A (mpf, descending)
    N: int
    k: int
    dps: int


def spectrum_mp(A, dps: int = 50) -> SpectrumMP:
    """Eigenvalues lambda = 1 + a of A^T A at ``dps`` digits (A: array, nested lists, Fractions or strings)."""
    import numpy as np
    if isinstance(A, np.ndarray) and A.ndim == 2 and A.size and not np.any(A):   # every unit sees pure noise
        return SpectrumMP(lam=tuple(mpmath.mpf(1) for _ in range(A.shape[1])), N=A.shape[0], k=A.shape[1], dps=dps)
    ex = exact_problem(A if not isinstance(A, np.ndarray) or A.dtype.kind == "f" else A.astype(float))
    N = len(A) if not hasattr(A, "shape") else A.shape[0]
    with mpmath.workdps(dps):
        M = mpmath.matrix([[mpmath.mpf(x.numerator) / x.denominator for x in row] for row in ex.gram])
        a = sorted((max(x, mpmath.mpf(0)) for x in mpmath.eigsy(M, eigvals_only=True)), reverse=True)
        a = [x if i < ex.rank else mpmath.mpf(0) for i, x in enumerate(a)]   # exact rank: zeros are zeros
        lam = tuple(1 + x for x in a)
    return SpectrumMP(lam=lam, N=int(N), k=ex.k, dps=dps)


def terms_mp(spec: SpectrumMP, beta) -> Terms:
    """Reconstruction, KL, ELBO, objective, log-likelihood and MIE at the optimum, every constant kept (mpf values;
    TIE and its alignment are left out: see :mod:`numerics.optimal_beta`)."""
    # never below the caller's precision: mpmath.diff raises it and steps beta by less than 10^-dps
    with mpmath.workdps(max(spec.dps, mpmath.mp.dps)):
        b = mpmath.mpf(beta)
        N, k = spec.N, spec.k
        base = -mpmath.mpf(N) / 2 * mpmath.log(2 * mpmath.pi) - mpmath.mpf(N - k) / 2
        recon = base - mpmath.fsum(gen_mp.mode_reconstruction(l, b) for l in spec.lam) / 2
        kl = mpmath.fsum(gen_mp.mode_kl(l, b) for l in spec.lam)
        loglik = base - mpmath.fsum(gen_mp.mode_loglik(l, b) for l in spec.lam) / 2
        mie = mpmath.fsum(gen_mp.mode_mie(l, b) for l in spec.lam)
        return Terms(beta=b, reconstruction=recon, kl=kl, elbo=recon - kl, objective=recon - b * kl,
                     log_likelihood=loglik, mie=mie)


def d_dbeta(fn, beta, dps: int = 50):
    """d fn / d beta at ``beta`` by ``mpmath.diff`` with ``dps`` working digits (fn smooth near beta)."""
    with mpmath.workdps(dps):
        return mpmath.diff(fn, mpmath.mpf(beta))

