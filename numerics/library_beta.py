"""Which beta is a library's beta: the paper's beta and decoder variance behind a beta-VAE library's loss.

A library's loss per example is, up to an overall positive factor and additive constants,

    a ||x - x_hat||^2 + b KL(q(z|x) || p(z)),

with a (the reconstruction scale) and b (the KL weight) read off its loss code: whether it keeps the 1/2 of the
Gaussian log-density, sums or averages over the D input values, and weights the KL by batch size over dataset size
(:mod:`numerics.library_conventions` holds each library's a and b with the cited source lines). Averaging over a
batch is a mean over examples: it rescales nothing per example.

The paper's objective (6) with p(x|z) = N(D z + b_D, sigma_d^2 I_N) is, per example,

    -L(beta, sigma_d^2) = ||x - x_hat||^2 / (2 sigma_d^2) + beta KL + (N/2) log(2 pi sigma_d^2).

sigma_d^2 enters in two places: the quadratic term, and the log-normaliser (N/2) log(2 pi sigma_d^2), which does not
depend on the parameters (sigma_d^2 is fixed, not learned), so it moves the objective's value, never its optimum.
Matching the parameter-dependent part gives two readings of the same loss:

* ``beta``: at the paper's sigma_d^2 = 1, library loss = 2a (-L(beta, 1)) - 2a (N/2) log 2 pi with beta = b / (2a);
* ``decoder_variance``: the sigma_d^2 at which the library's loss is the plain ELBO (beta = 1):
  library loss = b (-L(1, sigma_d^2)) - b (N/2) log(2 pi sigma_d^2) with sigma_d^2 = b / (2a).

They are one number read two ways, because L(beta, sigma_d^2) has the unit model's optimum at beta sigma_d^2
(README, "Beyond the paper's unit variances"; :meth:`numerics.variances.Variances.effective_beta`): every pair with
beta sigma_d^2 = b / (2a) trains to the same parameters. A Bernoulli (cross-entropy) reconstruction is not a
Gaussian likelihood: it has neither, and :func:`convert` refuses it (:class:`NotGaussian`).

>>> from numerics.library_conventions import convention
>>> c = convert(convention("1konny", "gaussian"), 4.0, Sizes())     # sum of squares, no 1/2: beta / 2
>>> c.beta, c.decoder_variance, c.loss_factor_beta
(2.0, 2.0, 2.0)
>>> convert(convention("antixk", "mse"), 4.0, Sizes())
Traceback (most recent call last):
numerics.library_beta.MissingSize: input-dim: required by AntixK/PyTorch-VAE mse (the per-pixel mean divides the squared error by D)
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Callable

from .input_error import InputError

__all__ = ["Citation", "Conversion", "Convention", "MissingSize", "NotGaussian", "Sizes", "convert"]


class NotGaussian(InputError):
    """The convention's reconstruction is not a Gaussian log-density (field ``reconstruction``)."""


class MissingSize(InputError):
    """A size the convention's a or b depends on was not given (field: ``input-dim``, ``batch-size``, ...)."""


@dataclass(frozen=True)
class Sizes:
    """What a convention may need besides beta: D input values per example, batch size M, dataset size S, and
    AntixK's configured ``kld_weight``."""

    input_dim: int | None = None
    batch_size: int | None = None
    dataset_size: int | None = None
    kld_weight: float | None = None

    def require(self, names: tuple[str, ...], who: str, why: str) -> None:
        for name in names:
            if getattr(self, name) is None:
                raise MissingSize(name.replace("_", "-"), f"required by {who} ({why})")


@dataclass(frozen=True)
class Citation:
    """Source lines of a loss: repository, path, revision, line range, URL, and the quoted lines as read."""

    repository: str
    path: str
    revision: str
    lines: tuple[int, int]
    quoted: tuple[str, ...]
    note: str = ""

    @property
    def url(self) -> str:
        commit = self.revision.split()[0]
        return f"https://github.com/{self.repository}/blob/{commit}/{self.path}#L{self.lines[0]}-L{self.lines[1]}"

    def short(self) -> str:
        return f"{self.repository} {self.path}@{self.revision.split()[0][:8]} lines {self.lines[0]}-{self.lines[1]}"

    def to_json(self) -> dict:
        return {"repository": self.repository, "path": self.path, "revision": self.revision,
                "lines": list(self.lines), "url": self.url, "quoted": list(self.quoted), "note": self.note}


@dataclass(frozen=True)
class Convention:
    """One library's loss convention: per example, ``scale(sizes)`` ||x - x_hat||^2 + ``weight(beta, sizes)`` KL.

    ``scale`` and ``weight`` are None for a reconstruction that is not Gaussian; ``needs`` names the sizes they use,
    ``why`` says what in the code makes them needed; ``formula`` and ``derivation`` are the one-line texts."""

    library: str
    option: str
    summary: str
    citations: tuple[Citation, ...]
    formula: str
    derivation: str
    scale: Callable[[Sizes], float] | None = None
    weight: Callable[[float, Sizes], float] | None = None
    needs: tuple[str, ...] = ()
    why: str = ""
    default: bool = False

    @property
    def gaussian(self) -> bool:
        return self.scale is not None


@dataclass(frozen=True)
class Conversion:
    """A library's beta read as the paper's: ``beta`` at sigma_d^2 = 1, ``decoder_variance`` at beta = 1 (equal by
    the rescaling identity), a and b per example, and the factors that turn the library's loss into the paper's
    -L: ``loss_factor_beta`` = 2a (for -L(beta, 1)) and ``loss_factor_variance`` = b (for -L(1, sigma_d^2))."""

    library: str
    option: str
    library_beta: float
    beta: float
    decoder_variance: float
    reconstruction_scale: float
    kl_weight: float
    loss_factor_beta: float
    loss_factor_variance: float
    formula: str
    derivation: str
    citations: tuple[Citation, ...]
    sizes_used: dict
    sizes_unused: tuple[str, ...]


def convert(convention: Convention, library_beta: float, sizes: Sizes) -> Conversion:
    """The paper's beta and decoder variance behind ``library_beta`` under ``convention`` (module docstring)."""
    who = f"{convention.library} {convention.option}"
    if not convention.gaussian:
        raise NotGaussian("reconstruction", f"{who} is a Bernoulli likelihood (binary cross-entropy), not a Gaussian "
                                            "one: it has no decoder variance, so no paper beta")
    if not (math.isfinite(library_beta) and library_beta >= sys.float_info.min):
        raise InputError("beta", f"must be a finite number >= {sys.float_info.min:.3g} (subnormal floats lose "
                                 f"digits), got {library_beta!r}")
    sizes.require(convention.needs, who, convention.why)
    a, b = convention.scale(sizes), convention.weight(library_beta, sizes)
    beta = b / (2 * a)
    # a subnormal a, b or b / (2a) has lost digits: refused rather than printed to 15 wrong digits
    if not all(math.isfinite(v) and v >= sys.float_info.min for v in (a, b, beta)):
        raise InputError("beta", f"the paper's beta b / (2a) = {beta!r} (a = {a!r}, b = {b!r}) is not a normal "
                                 "positive float64 for these sizes")
    used = {n: getattr(sizes, n) for n in convention.needs}
    unused = tuple(n for n in ("input_dim", "batch_size", "dataset_size", "kld_weight")
                   if n not in convention.needs and getattr(sizes, n) is not None)
    return Conversion(library=convention.library, option=convention.option, library_beta=float(library_beta),
                      beta=beta, decoder_variance=beta, reconstruction_scale=a, kl_weight=b,
                      loss_factor_beta=2 * a, loss_factor_variance=b, formula=convention.formula,
                      derivation=convention.derivation, citations=convention.citations, sizes_used=used,
                      sizes_unused=unused)
