"""The linear beta-VAE of Section IV.B as a torch module (float64), and its two training objectives.

Encoder (eq. 20): mu_z = W_mu x + b_mu, Sigma_z = diag(exp(W_sigma x + b_sigma)).
Decoder: y ~ N(D z + b_D, sigma_d^2 I_N), prior z ~ N(0, sigma_p^2 I_k) (the paper: sigma_d^2 = sigma_p^2 = 1;
the general model's variances are a :class:`numerics.variances.Variances`).

Two objectives, both *maximised* (the optimisers minimise their negative):

* :func:`exact_objective`: eq. (21) with every constant, i.e. the beta-VAE objective averaged
  over x ~ N(0, Sigma_x). With the paper's Sigma_x = A A^T + I and unit variances it equals
  ``numerics.generated.objective`` (a test pins them). Sigma_x is any :class:`DataFactor`
  B B^T + c I_N (a mixing matrix with noise: B = A, c = sigma_eta^2; a covariance S: its eigen-factor,
  c = 0) and is never formed: every trace M Sigma_x M^T is written as |M B|^2 + c |M|^2, so the cost
  is O(N m k) for an N x m factor, O(N k^2) for a mixing matrix: N = 10^5 is as cheap as N = 128.
* :func:`sampled_objective`: the practitioner's estimate on a minibatch x = A s + eta, one
  reparameterised draw z = mu_z + Sigma_z^(1/2) eps per x, the KL to N(0, I_k) in closed form.
  Its expectation over (s, eta, eps) is the exact objective, so both paths target the same optimum.

Parameters are kept as in the paper (rows of W_mu, W_sigma index latent units); inside the module biases
are 1-D (torch's layout, :func:`module_shapes`), outside it they are the model's one record,
:class:`numerics.model.Parameters` (biases as columns): :meth:`LinearVAE.as_parameters` and
:func:`torch_tensors` convert.

>>> import torch
>>> from numerics.model import fig3_mixing
>>> A = torch.tensor(fig3_mixing())
>>> net = LinearVAE.initialised(N=2, k=2, seed=0)
>>> float(exact_objective(*net.tensors(), A, beta=1.0).detach()) < 0
True
>>> p = net.as_parameters()
>>> p.b_mu.shape, torch.equal(torch_tensors(p)[1], net.b_mu.detach())
((2, 1), True)
>>> from numerics.variances import Variances
>>> data = DataFactor.from_mixing(A, noise=0.5)          # Sigma_x = A A^T + 0.5 I
>>> t = exact_terms(*net.tensors(), data, 1.0, Variances(decoder=0.3, prior=4.0))
>>> bool(torch.isclose(t.objective, t.reconstruction - t.kl))
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from numerics.data_spectrum import DataSpectrum
from numerics.model import NAMES, Parameters, as_mixing_matrix, parameter_shapes
from numerics.variances import UNIT, Variances

from ..device import pick_device

DTYPE = torch.float64
LOG_2PI = math.log(2 * math.pi)


def module_shapes(N: int, k: int) -> tuple[tuple[int, ...], ...]:
    """:func:`numerics.model.parameter_shapes` in the torch module's layout: biases 1-D."""
    return tuple((shape[0],) if name.startswith("b_") else shape
                 for name, shape in zip(NAMES, parameter_shapes(N, k)))


def torch_tensors(p: Parameters, device=None, requires_grad: bool = False) -> tuple[torch.Tensor, ...]:
    """The six arrays of ``p`` as float64 tensors in the module's layout (biases 1-D), ``NAMES`` order."""
    return tuple(torch.tensor(np.reshape(array, shape), dtype=DTYPE, device=device, requires_grad=requires_grad)
                 for array, shape in zip(p.arrays(), module_shapes(p.N, p.k)))


def split(theta: torch.Tensor, N: int, k: int) -> tuple[torch.Tensor, ...]:
    """A flat parameter vector (row-major, as :func:`numerics.model.flatten`) -> the six tensors (views)."""
    out, pos = [], 0
    for shp in module_shapes(N, k):
        m = math.prod(shp)
        out.append(theta[pos:pos + m].view(shp))
        pos += m
    return tuple(out)


@dataclass(frozen=True, eq=False)
class DataFactor:
    """The data covariance Sigma_x = B B^T + c I_N as a factor B (N x m, float64) and ``noise`` c >= 0, with the
    number ``k`` of latent units: what the exact objective needs of the data, without an N x N matrix."""

    factor: torch.Tensor
    noise: float
    k: int

    def __post_init__(self):
        if self.factor.ndim != 2 or self.factor.dtype != DTYPE:
            raise ValueError("the factor must be a 2-D float64 tensor, "
                             f"got {self.factor.dtype} {tuple(self.factor.shape)}")
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise ValueError(f"the noise variance must be finite and >= 0, got {self.noise!r}")
        if not 1 <= self.k <= self.N:
            raise ValueError(f"k = {self.k} latent units for N = {self.N} observed dimensions")

    @property
    def N(self) -> int:
        return self.factor.shape[0]

    @property
    def device(self) -> torch.device:
        return self.factor.device

    def to(self, device) -> DataFactor:
        """The same data with the factor on ``device`` (train_exact trains where the factor is)."""
        return DataFactor(self.factor.to(device), self.noise, self.k)

    @classmethod
    def from_mixing(cls, A, noise: float = 1.0) -> DataFactor:
        """x = A s + eta, eta ~ N(0, noise I_N): Sigma_x = A A^T + noise I_N, k = the columns of A."""
        if not torch.is_tensor(A):
            A = torch.tensor(as_mixing_matrix(A), dtype=DTYPE)
        return cls(A, float(noise), A.shape[1])

    @classmethod
    def from_covariance(cls, S, k: int) -> DataFactor:
        """Any symmetric positive semi-definite N x N Sigma_x: B = U diag(sqrt(lambda)) over its positive eigenvalues
        (thin where S is of low rank), c = 0. Checked as :meth:`numerics.data_spectrum.DataSpectrum.from_covariance`
        checks it (its ``DataError`` names the field)."""
        S = np.array(S, dtype=float)
        DataSpectrum.from_covariance(S.copy(), k)            # the one place of the input rules (raises DataError)
        lam, U = np.linalg.eigh(S)
        keep = lam > 0
        return cls(torch.tensor(U[:, keep] * np.sqrt(lam[keep])), 0.0, int(k))

    def sandwich_rows(self, M) -> torch.Tensor:
        """diag(M Sigma_x M^T) = row sums of (M B)^2 + c M^2, O(rows N m)."""
        MB = M @ self.factor
        return (MB ** 2).sum(1) + self.noise * (M ** 2).sum(1)


def as_data(A, variances: Variances = UNIT) -> DataFactor:
    """A :class:`DataFactor` as it is, or a mixing matrix A with the noise variance of ``variances``."""
    return A if isinstance(A, DataFactor) else DataFactor.from_mixing(A, variances.noise)


@dataclass(frozen=True)
class ExactTerms:
    """Data-averaged reconstruction, KL and objective (eq. 21 with constants), as 0-d tensors."""

    reconstruction: torch.Tensor
    kl: torch.Tensor
    objective: torch.Tensor


def exact_terms(W_mu, b_mu, W_sigma, b_sigma, D, b_D, A, beta, variances: Variances = UNIT) -> ExactTerms:
    """E_x E_q log p(x|z), E_x KL(q(z|x) || p(z)) and their combination for beta, O(N m k) work.

    ``A``: a mixing matrix (Sigma_x = A A^T + sigma_eta^2 I, the noise variance of ``variances``; the paper's
    eq. 18 by default) or a :class:`DataFactor` (Sigma_x = B B^T + c I; ``variances.noise`` is then not used).
    With s_d^2, s_p^2 the decoder and prior variances and v_i = exp([W_sigma Sigma_x W_sigma^T]_ii / 2 + b_sigma_i)
    (the x-average of the lognormal variance, eqs. 38-39):
    reconstruction = -(N/2) log(2 pi s_d^2) - (|D b_mu + b_D|^2 + Tr[(I - D W_mu) Sigma_x (I - D W_mu)^T]
    + sum_i [D^T D]_ii v_i) / (2 s_d^2), and KL = (k/2) log s_p^2 - k/2 - sum b_sigma / 2
    + (|b_mu|^2 + Tr[W_mu Sigma_x W_mu^T] + sum v_i) / (2 s_p^2). The N x N trace is
    |B - D (W_mu B)|^2 + c (N - 2 Tr(W_mu D) + <D^T D, W_mu W_mu^T>).
    """
    data = as_data(A, variances)
    B, c, N, k = data.factor, data.noise, data.N, W_mu.shape[0]
    # with unit variances every extra factor below is an exact 1.0 or 0.0: the paper's numbers, bit for bit
    sd2, sp2 = variances.decoder, variances.prior
    v = torch.exp(0.5 * data.sandwich_rows(W_sigma) + b_sigma)
    DtD = D.T @ D
    WB = W_mu @ B
    residual = B - D @ WB
    trace_R = (residual ** 2).sum() + c * N - c * 2 * torch.trace(W_mu @ D) + c * (DtD * (W_mu @ W_mu.T)).sum()
    e = D @ b_mu + b_D
    reconstruction = (-0.5 * N * (LOG_2PI + math.log(sd2))
                      - (0.5 / sd2) * (e @ e) - (0.5 / sd2) * trace_R - (0.5 / sd2) * (torch.diagonal(DtD) * v).sum())
    kl = (0.5 * k * math.log(sp2) - 0.5 * k - 0.5 * b_sigma.sum() + (0.5 / sp2) * (b_mu @ b_mu)
          + (0.5 / sp2) * ((WB ** 2).sum() + c * (W_mu ** 2).sum()) + (0.5 / sp2) * v.sum())
    return ExactTerms(reconstruction, kl, reconstruction - beta * kl)


def exact_objective(W_mu, b_mu, W_sigma, b_sigma, D, b_D, A, beta, variances: Variances = UNIT) -> torch.Tensor:
    """Eq. (21) with every constant (equals ``numerics.generated.objective``); to be maximised."""
    return exact_terms(W_mu, b_mu, W_sigma, b_sigma, D, b_D, A, beta, variances).objective


def exact_objective_flat(theta, A, beta, variances: Variances = UNIT) -> torch.Tensor:
    """:func:`exact_objective` of a flat parameter vector (for L-BFGS and Hessian-vector products)."""
    data = as_data(A, variances)
    return exact_objective(*split(theta, data.N, data.k), data, beta, variances)


def sample_data(A, batch: int, generator: torch.Generator) -> torch.Tensor:
    """x = A s + eta (eq. 17), s ~ N(0, I_k), eta ~ N(0, I_N); rows are samples."""
    N, k = A.shape
    s = torch.randn(batch, k, generator=generator, dtype=A.dtype, device=A.device)
    eta = torch.randn(batch, N, generator=generator, dtype=A.dtype, device=A.device)
    return s @ A.T + eta


def sampled_objective(W_mu, b_mu, W_sigma, b_sigma, D, b_D, x, eps, beta) -> torch.Tensor:
    """Minibatch mean of log p(x|z) - beta KL(q(z|x) || N(0, I)), z = mu + exp(logvar/2) eps (reparameterised)."""
    N = x.shape[1]
    mu = x @ W_mu.T + b_mu
    logvar = x @ W_sigma.T + b_sigma
    z = mu + torch.exp(0.5 * logvar) * eps
    recon = -0.5 * N * LOG_2PI - 0.5 * ((x - z @ D.T - b_D) ** 2).sum(1)
    kl = 0.5 * (torch.exp(logvar) + mu ** 2 - 1.0 - logvar).sum(1)
    return (recon - beta * kl).mean()


class LinearVAE(torch.nn.Module):
    """Encoder (eq. 20) and linear decoder with unit output variance, float64."""

    def __init__(self, N: int, k: int, device=None):
        super().__init__()
        device = pick_device(device)
        for name, shp in zip(NAMES, module_shapes(N, k)):
            setattr(self, name, torch.nn.Parameter(torch.zeros(shp, dtype=DTYPE, device=device)))
        self.N, self.k = N, k

    @classmethod
    def initialised(cls, N: int, k: int, seed: int, *, scale: float = 0.1, device=None) -> "LinearVAE":
        """Small random initialisation: weights N(0, scale^2 / fan_in), biases N(0, (scale/10)^2).

        Small, so that training starts near the symmetric saddle D = W_mu = 0 and has to find
        the optimum itself; random, so that no exact symmetry (two identical units) survives.
        Seeded by a private ``torch.Generator`` on the CPU, so it is identical on every device.
        """
        net = cls(N, k, device=device)
        g = torch.Generator().manual_seed(int(seed))
        fan_in = {"W_mu": N, "W_sigma": N, "D": k}
        with torch.no_grad():
            for name, p in net.named_parameters():
                std = scale / math.sqrt(fan_in[name]) if name in fan_in else scale / 10
                p.copy_(std * torch.randn(p.shape, generator=g, dtype=DTYPE))
        return net

    def tensors(self) -> tuple[torch.Tensor, ...]:
        return tuple(getattr(self, name) for name in NAMES)

    def flat(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self.tensors()])

    def load_flat(self, theta: torch.Tensor) -> None:
        with torch.no_grad():
            for p, q in zip(self.tensors(), split(theta, self.N, self.k)):
                p.copy_(q)

    def encode(self, x):
        """(mu_z, log diag Sigma_z) of eq. (20) for a batch of rows x."""
        return x @ self.W_mu.T + self.b_mu, x @ self.W_sigma.T + self.b_sigma

    def decode(self, z):
        return z @ self.D.T + self.b_D

    def exact_terms(self, A, beta, variances: Variances = UNIT) -> ExactTerms:
        return exact_terms(*self.tensors(), A, beta, variances)

    def as_parameters(self) -> Parameters:
        """The trained parameters as numpy arrays (copies), in the model's record (biases as columns)."""
        return Parameters.of(*(p.detach().cpu().numpy().astype(np.float64).copy() for p in self.tensors()))
