"""The three variances of the general linear model, beyond the paper's unit choices.

x = A s + eta with eta ~ N(0, ``noise`` I_N) (sigma_eta^2); decoder p(x|z) = N(D z + b_D, ``decoder`` I_N) (sigma_d^2);
prior p(z) = N(0, ``prior`` I_k) (sigma_p^2). The paper sets all three to 1 (:data:`UNIT`).

What each one does at the optimum (derived and proved in :mod:`derivations.general_model`):

* the decoder variance only rescales beta: the optimal parameters at (beta, sigma_d^2) are the unit model's at
  ``beta' = beta sigma_d^2`` (:meth:`Variances.effective_beta`); equivalently the model is the unit-variance one on the
  data x / sigma_d at the same beta, every log-density shifted by -(N/2) log sigma_d^2;
* the prior variance only rescales z: W_mu, b_mu and the encoder's standard deviation are multiplied by sigma_p, D
  divided by it; no term of the objective changes, and TIE is measured on z / sigma_p (the gauge where the prior is
  the sources' N(0, I));
* the noise variance is a property of the data (Sigma_x = A A^T + sigma_eta^2 I): only TIE, which compares with the
  true posterior of the sources, needs it separately.

>>> v = Variances(decoder=0.5)
>>> v.effective_beta(4.0), v.is_unit
(2.0, False)
>>> Variances(prior=0.0)          # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
numerics.variances.VarianceError: prior-variance: must be a finite number > 0, got 0.0
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .input_error import InputError


#: variances the float64 closed form handles: lambda / sigma_d^2 and beta sigma_d^2 stay far from overflow and underflow
RANGE = (1e-150, 1e150)


class VarianceError(InputError):
    """A variance that is not a finite number > 0; ``field`` is ``noise-variance``, ``decoder-variance`` or
    ``prior-variance``."""


@dataclass(frozen=True)
class Variances:
    noise: float = 1.0       # sigma_eta^2: x = A s + eta, eta ~ N(0, noise I_N)
    decoder: float = 1.0     # sigma_d^2: p(x|z) = N(D z + b_D, decoder I_N)
    prior: float = 1.0       # sigma_p^2: p(z) = N(0, prior I_k)

    def __post_init__(self):
        for name in ("noise", "decoder", "prior"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise VarianceError(f"{name}-variance", f"must be a finite number > 0, got {value!r}")
            if not RANGE[0] <= value <= RANGE[1]:
                raise VarianceError(f"{name}-variance", f"must be between {RANGE[0]:g} and {RANGE[1]:g} (the closed form "
                                    f"divides eigenvalues by it in float64), got {value!r}")
            object.__setattr__(self, name, float(value))

    @property
    def is_unit(self) -> bool:
        """The paper's model: every variance 1."""
        return self.noise == self.decoder == self.prior == 1.0

    def effective_beta(self, beta: float) -> float:
        """beta' = beta sigma_d^2: the beta of the unit-decoder-variance model with the same optimal parameters."""
        return beta * self.decoder

    def to_json(self) -> dict:
        return {"noise_variance": self.noise, "decoder_variance": self.decoder, "prior_variance": self.prior}


UNIT = Variances()
