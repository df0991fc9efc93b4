"""Example encoders and a decoder for ``python -m verify probe`` (the paper's problem, beta = 2).

    python -m verify probe --beta 2 --encoder docs/examples/my_encoder.py:affine_encoder \\
                           --decoder docs/examples/my_encoder.py:affine_decoder
    python -m verify probe --beta 2 --encoder docs/examples/my_encoder.py:mlp_encoder --json

A factory takes no arguments and returns a torch module (or a plain function). The encoder maps a float64 tensor x of
shape (n, N) to (mean, log-variance) of q(z|x), each (n, k); the decoder maps z (n, k) to the mean of p(x|z), (n, N).

* ``affine_encoder`` / ``affine_decoder``: the closed-form optimum at beta = 2 as nn.Linear layers. The probe detects
  that they are affine, so every value is exact and the gap to the optimum is 0 (to rounding).
* ``mlp_encoder``: a small tanh MLP, the optimum's linear map plus a nonlinear branch. It is not affine, so the probe
  estimates by Monte-Carlo, with standard errors; its TIE is a little above the optimum's.
"""
import torch

from numerics.model import paper_mixing
from numerics.optimum import closed_form_optimum

BETA = 2.0
A = paper_mixing()          # N = 128 observed dimensions, k = 2 sources
N, K = A.shape


class Encoder(torch.nn.Module):
    """mean = W_mu x + b_mu, log-variance = W_sigma x + b_sigma (the paper's linear encoder)."""

    def __init__(self):
        super().__init__()
        self.mean, self.logvar = torch.nn.Linear(N, K), torch.nn.Linear(N, K)

    def forward(self, x):
        return self.mean(x), self.logvar(x)


def _set(layer, weight, bias):
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight))
        layer.bias.copy_(torch.as_tensor(bias).reshape(-1))


def affine_encoder():
    p = closed_form_optimum(A, BETA)
    encoder = Encoder().double()
    _set(encoder.mean, p.W_mu, p.b_mu)
    _set(encoder.logvar, p.W_sigma, p.b_sigma)
    return encoder


def affine_decoder():
    p = closed_form_optimum(A, BETA)
    decoder = torch.nn.Linear(K, N).double()
    _set(decoder, p.D, p.b_D)
    return decoder


class MLPEncoder(torch.nn.Module):
    """The optimal linear encoder plus a small tanh branch: (mean, log-variance) = linear(x) + branch(x)."""

    def __init__(self):
        super().__init__()
        self.linear = affine_encoder()
        torch.manual_seed(0)
        self.branch = torch.nn.Sequential(torch.nn.Linear(N, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2 * K)).double()
        with torch.no_grad():
            self.branch[2].weight.mul_(0.1)

    def forward(self, x):
        mean, logvar = self.linear(x)
        extra_mean, extra_logvar = self.branch(x).split(K, dim=1)
        return mean + extra_mean, logvar + extra_logvar


def mlp_encoder():
    return MLPEncoder()
