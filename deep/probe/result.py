"""What the probe reports: :class:`Estimate` (a value and its standard error, None when exact), :class:`Gap` (to the
closed-form optimum) and :class:`ProbeResult`, with its one JSON view.

Sign convention of the gap (the same in the JSON, where it is spelled out under ``convention``): the probe's value
minus the optimum's, for quantities where smaller is better: TIE, the loss -(reconstruction - beta KL) (the beta-VAE
objective negated) and the negative ELBO. So ``loss`` >= 0 for every affine encoder and decoder (the closed form is
the global maximum of the objective over them); ``tie`` and ``negative_elbo`` may have either sign (the optimum at
beta maximises neither the ELBO, for beta != 1, nor minus TIE).

>>> e = Estimate.of_samples(np.array([1.0, 2.0, 3.0, 4.0]))
>>> e.value, round(e.se, 6)                    # mean and std / sqrt(n)
(2.5, 0.645497)
>>> d = difference(e, Estimate(1.0))          # an exact value carries no error
>>> d.value, d.se == e.se
(1.5, True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from numerics.gauge import Alignment
from numerics.model import Terms

GAP_CONVENTION = ("probe minus closed-form optimum at the same beta, for quantities where smaller is better: TIE, "
                  "loss = -(reconstruction - beta KL), negative ELBO; loss >= 0 for affine encoders and decoders")


@dataclass(frozen=True)
class Estimate:
    """A value; ``se`` its Monte-Carlo standard error (None: exact); ``samples`` the per-example values it averages
    (every Monte-Carlo estimate of the probe has them, to combine estimates drawn on the same examples; not part of
    the JSON)."""

    value: float
    se: float | None = None
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of_samples(cls, values: np.ndarray) -> Estimate:
        values = np.asarray(values, dtype=float)
        return cls(float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values))), values)

    @property
    def exact(self) -> bool:
        return self.se is None


def combination(a: Estimate, wa: float, b: Estimate, wb: float) -> Estimate:
    """wa a + wb b, per example (the probe draws every Monte-Carlo estimate on the same examples, so their
    correlation counts); an exact value enters as a constant."""
    if a.exact and b.exact:
        return Estimate(float(wa * a.value + wb * b.value))
    return Estimate.of_samples(wa * _per_example(a) + wb * _per_example(b))


def _per_example(e: Estimate):
    if e.exact:
        return e.value
    if e.samples is None:
        raise ValueError("a Monte-Carlo estimate without its per-example values cannot be combined")
    return e.samples


def difference(a: Estimate, b: Estimate) -> Estimate:
    """a - b (see :func:`combination`)."""
    return combination(a, 1.0, b, -1.0)


@dataclass(frozen=True)
class Gap:
    """Probe minus optimum (module docstring); ``loss`` and ``negative_elbo`` None without a decoder."""

    tie: Estimate
    loss: Estimate | None
    negative_elbo: Estimate | None

    def to_json(self) -> dict:
        return {**_flat("tie", self.tie), **_flat("loss", self.loss), **_flat("negative_elbo", self.negative_elbo),
                "convention": GAP_CONVENTION}


@dataclass(frozen=True)
class ProbeResult:
    """The probe's measurements at ``beta`` (the ``optimum``'s terms are the closed form's at the same beta).

    ``exact``: every reported value is exact (no Monte-Carlo); ``routes`` says how each part was measured and
    ``why``; ``encoder_residual``/``decoder_residual`` the affine test's residuals (:mod:`deep.probe.affine`).
    ``reconstruction``, ``elbo``, ``objective`` (= reconstruction - beta KL) are None without a decoder.
    ``tie`` is gauge-aligned by ``alignment`` (latent j stands for source permutation[j] with sign signs[j]);
    ``tie_as_labelled`` the TIE without relabelling. ``samples``: the Monte-Carlo draws of x (None when exact).
    """

    beta: float
    N: int
    k: int
    exact: bool
    routes: dict
    why: str
    encoder_residual: float
    decoder_residual: float | None
    tie: Estimate
    tie_as_labelled: Estimate
    kl: Estimate
    reconstruction: Estimate | None
    elbo: Estimate | None
    objective: Estimate | None
    alignment: Alignment
    optimum: Terms
    gap_to_optimum: Gap
    samples: int | None
    seed: int | None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict:
        out = {"beta": self.beta, "N": self.N, "k": self.k, "exact": self.exact, "routes": dict(self.routes),
               "why": self.why, "affine_residual": {"encoder": self.encoder_residual, "decoder": self.decoder_residual}}
        for name in ("tie", "tie_as_labelled", "kl", "reconstruction", "elbo", "objective"):
            out.update(_flat(name, getattr(self, name)))
        out.update({"alignment": self.alignment.to_json(), "optimum": self.optimum,
                    "gap_to_optimum": self.gap_to_optimum.to_json(), "samples": self.samples, "seed": self.seed,
                    "notes": list(self.notes)})
        return out


def _flat(name: str, estimate: Estimate | None) -> dict:
    """``name`` and ``name_se`` (None when exact; both None when not measured)."""
    if estimate is None:
        return {name: None, f"{name}_se": None}
    return {name: estimate.value, f"{name}_se": estimate.se}
