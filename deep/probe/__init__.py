"""Measure your own encoder (and decoder) against the exact theory of the paper's linear model (issue 16).

``probe(encoder, A, beta, decoder=None)``: ``encoder`` maps a float64 tensor x of shape (n, N) to the mean and the
log-variance of q(z|x), each (n, k) (a torch module or a function; :mod:`deep.probe.call`); ``decoder`` maps z (n, k)
to the mean of p(x|z), (n, N), of unit variance. The data are the paper's, x = A s + eta ~ N(0, A A^T + I), with the
paper's unit variances (decoder, prior, noise: other variances are refused). Reported, as a :class:`ProbeResult`:

* the gauge-aligned TIE against the true posterior p(s|x) (and TIE as labelled), the KL to the prior, and with a
  decoder the reconstruction term, the ELBO and the objective reconstruction - beta KL;
* the gap to the closed-form optimum at the same beta (:class:`deep.probe.result.Gap`: probe minus optimum for TIE,
  the loss -(reconstruction - beta KL) and the negative ELBO; the loss gap is >= 0 for affine maps);
* which route gave each value and why: an encoder that passes the affine test (:mod:`deep.probe.affine`) is the
  linear model's encoder, and its KL and TIE are exact (and, with an affine decoder, every value); otherwise
  Monte-Carlo over ``samples`` draws of x (seed ``seed``), each value with its standard error (:mod:`.measure`).
  ``route="monte-carlo"`` skips the exact route.

The user's file is imported only by :func:`deep.probe.load.load_factory` (the ``probe`` command calls it), never
when this package is imported.

>>> import numpy as np, torch
>>> from numerics.optimum import closed_form_optimum
>>> A = np.array([[2.73, 0.73], [0.73, 2.73]])
>>> p = closed_form_optimum(A, 2.0)
>>> W, c = torch.tensor(np.vstack([p.W_mu, p.W_sigma])), torch.tensor(np.vstack([p.b_mu, p.b_sigma])[:, 0])
>>> result = probe(lambda x: (x @ W.T + c).split(2, dim=1), A, 2.0)
>>> result.exact, abs(result.gap_to_optimum.tie.value) < 1e-12, result.gap_to_optimum.loss
(True, True, None)
>>> mlp = probe(lambda x: ((x @ W.T + c) + 0.01 * torch.tanh(x).sum(1, keepdim=True)).split(2, dim=1), A, 2.0,
...             samples=5000)
>>> mlp.exact, mlp.routes["encoder"], mlp.tie.se > 0
(False, 'monte-carlo', True)
"""
from __future__ import annotations

import math

import numpy as np

from numerics.model import as_mixing_matrix
from numerics.optimum import closed_form_terms

from .affine import fit_affine
from .call import Decoder, Encoder
from .load import LoadedModel, ProbeInputError, check_spec, load_factory
from .measure import (data_draws, decoder_check_points, encoder_check_points, exact_encoder, linear_parameters,
                      monte_carlo_encoder, reconstruction_samples)
from .result import Estimate, Gap, ProbeResult, combination, difference

__all__ = ["DEFAULT_SAMPLES", "LoadedModel", "ProbeInputError", "ProbeResult", "check_spec", "load_factory", "probe"]

#: Monte-Carlo draws of x by default
DEFAULT_SAMPLES = 20_000
MAX_SAMPLES = 10_000_000
ROUTES = ("auto", "monte-carlo")


def probe(encoder, A, beta: float, decoder=None, *, samples: int = DEFAULT_SAMPLES, seed: int = 0, variances=None,
          route: str = "auto") -> ProbeResult:
    """Measure ``encoder`` (and ``decoder``) on the paper's model with mixing matrix ``A`` at ``beta`` (module
    docstring). Bad input: :class:`ProbeInputError` naming the input (``encoder``, ``decoder``, ``beta``, ...)."""
    A = as_mixing_matrix(A)
    beta = _checked_inputs(beta, samples, seed, variances, route)
    N, k = A.shape
    enc = Encoder(encoder, N, k)
    dec = Decoder(decoder, N, k) if decoder is not None else None
    enc_fit = fit_affine(enc.stacked, N, encoder_check_points(A, seed))
    dec_fit = fit_affine(dec, k, decoder_check_points(k, seed)) if dec is not None else None
    forced = route == "monte-carlo"
    enc_exact = enc_fit.is_affine and not forced
    dec_affine = dec_fit is not None and dec_fit.is_affine and not forced
    notes = list(enc.notes) + (list(dec.notes) if dec is not None else [])

    measured = exact_encoder(linear_parameters(enc_fit, dec_fit if dec_affine else None, N, k), A, beta) \
        if enc_exact else None
    drawn = not enc_exact or (dec is not None and not dec_affine)
    if drawn:
        x = data_draws(A, samples, seed)
        mu, logvar = enc(x)
        if not enc_exact:
            measured = monte_carlo_encoder(mu, logvar, x, A)
            notes.append("the alignment is chosen from the averages over the same draws; the standard error of TIE "
                         "is conditional on it")
    if not measured.alignment.is_exact:
        notes.append(f"k = {k}: the alignment is a local search's (an upper bound of the aligned TIE), "
                     f"{measured.alignment.how}")
    reconstruction = elbo = objective = None
    if dec is not None:
        if enc_exact and dec_affine:
            reconstruction = Estimate(measured.terms.reconstruction)
        else:
            reconstruction = Estimate.of_samples(
                reconstruction_samples(x, mu, logvar, dec, dec_fit if dec_affine else None, seed))
        elbo = combination(reconstruction, 1.0, measured.kl, -1.0)
        objective = combination(reconstruction, 1.0, measured.kl, -beta)

    if objective is not None and not math.isfinite(objective.value) and math.isfinite(reconstruction.value) \
            and math.isfinite(measured.kl.value):
        raise ProbeInputError("beta", f"beta * KL = {beta:g} * {measured.kl.value:.6g} overflows float64; "
                                      "use a smaller beta")
    optimum = closed_form_terms(A, beta)
    gap = Gap(tie=difference(measured.tie, Estimate(optimum.tie)),
              loss=difference(Estimate(optimum.objective), objective) if objective is not None else None,
              negative_elbo=difference(Estimate(optimum.elbo), elbo) if elbo is not None else None)
    routes = {"encoder": "exact" if enc_exact else "monte-carlo",
              "reconstruction": None if dec is None else "exact" if enc_exact and dec_affine
              else "monte-carlo over x, exact in z" if dec_affine else "monte-carlo over x and z"}
    return ProbeResult(
        beta=beta, N=N, k=k, exact=not drawn, routes=routes,
        why=_why(enc_fit, dec_fit, forced, drawn, samples, seed), encoder_residual=enc_fit.residual,
        decoder_residual=dec_fit.residual if dec_fit is not None else None, tie=measured.tie,
        tie_as_labelled=measured.tie_as_labelled, kl=measured.kl, reconstruction=reconstruction, elbo=elbo,
        objective=objective, alignment=measured.alignment, optimum=optimum, gap_to_optimum=gap,
        samples=samples if drawn else None, seed=seed, notes=tuple(notes))


def _checked_inputs(beta, samples, seed, variances, route) -> float:
    try:
        beta = float(beta)
    except (TypeError, ValueError):
        raise ProbeInputError("beta", f"expected a number, got {beta!r}") from None
    if not (math.isfinite(beta) and beta > 0):
        raise ProbeInputError("beta", f"must be a finite number > 0, got {beta!r}")
    for name, value, lo, hi in (("samples", samples, 2, MAX_SAMPLES), ("seed", seed, 0, 2 ** 63 - 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
            raise ProbeInputError(name, f"must be an integer between {lo} and {hi}, got {value!r}")
    if route not in ROUTES:
        raise ProbeInputError("route", f"expected one of {', '.join(ROUTES)}, got {route!r}")
    if variances is not None and not variances.is_unit:
        raise ProbeInputError("variances", "the probe measures the paper's model (noise, decoder and prior variance 1) "
                                           "only")
    return beta


def _why(enc_fit, dec_fit, forced, drawn, samples, seed) -> str:
    parts = [enc_fit.describe("encoder")]
    if dec_fit is not None:
        parts.append(dec_fit.describe("decoder"))
    if forced:
        parts.append("Monte-Carlo requested")
    if not drawn:
        return "; ".join(parts) + ": every value exact (the linear model's population averages)"
    return "; ".join(parts) + f": Monte-Carlo over {samples} draws of x (seed {seed}) where not exact"
