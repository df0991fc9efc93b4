"""Encoders and decoders the probe tests load by FILE.py:FACTORY (valid ones; the bad ones are in bad_models.py).

Every factory here belongs to Fig. 3's problem (N = k = 2, A = 2I + 0.73) at beta = 2 (:data:`BETA`). The affine
ones are built from the closed-form optimum (``numerics.optimum.closed_form_optimum``) or from fixed matrices; the
MLPs are seeded, so every call of a factory returns the same model.
"""
import numpy as np
import torch

from numerics.model import fig3_mixing
from numerics.optimum import closed_form_optimum

BETA = 2.0
A = fig3_mixing()
N, K = A.shape


class TwoHeads(torch.nn.Module):
    """An encoder of two nn.Linear heads: mean and log-variance."""

    def __init__(self, W_mu, b_mu, W_sigma, b_sigma):
        super().__init__()
        self.mean, self.logvar = torch.nn.Linear(N, K), torch.nn.Linear(N, K)
        with torch.no_grad():
            for layer, W, b in ((self.mean, W_mu, b_mu), (self.logvar, W_sigma, b_sigma)):
                layer.weight.copy_(torch.tensor(np.asarray(W)))
                layer.bias.copy_(torch.tensor(np.ravel(b)))

    def forward(self, x):
        return self.mean(x), self.logvar(x)


def _linear(W, b):
    layer = torch.nn.Linear(W.shape[1], W.shape[0]).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(W))
        layer.bias.copy_(torch.tensor(np.ravel(b)))
    return layer


def optimal_encoder():
    """The closed-form optimum's encoder as nn.Linear heads, in float64."""
    p = closed_form_optimum(A, BETA)
    return TwoHeads(p.W_mu, p.b_mu, p.W_sigma, p.b_sigma).double()


def optimal_decoder():
    p = closed_form_optimum(A, BETA)
    return _linear(p.D, p.b_D)


def float32_encoder():
    """The optimum's encoder left in float32 (the probe converts a copy)."""
    p = closed_form_optimum(A, BETA)
    return TwoHeads(p.W_mu, p.b_mu, p.W_sigma, p.b_sigma)


# a non-optimal affine encoder and decoder, fixed numbers (the log-variance depends on x)
W_MU = np.array([[0.30, 0.10], [-0.05, 0.25]])
B_MU = np.array([0.10, -0.20])
W_SIGMA = np.array([[0.05, -0.02], [0.01, 0.04]])
B_SIGMA = np.array([-1.0, -0.5])
D = np.array([[2.0, 0.5], [0.3, 1.8]])
B_D = np.array([0.05, -0.1])


def function_encoder():
    """A plain function (not a module) computing the non-optimal affine encoder."""
    W = torch.tensor(np.vstack([W_MU, W_SIGMA]))
    b = torch.tensor(np.concatenate([B_MU, B_SIGMA]))
    return lambda x: tuple((x @ W.T + b).split(K, dim=1))


def dict_encoder():
    """The non-optimal affine encoder returning a dict."""
    f = function_encoder()

    def encode(x):
        mean, logvar = f(x)
        return {"mean": mean, "logvar": logvar}
    return encode


def affine_decoder():
    return _linear(D, B_D)


def mlp_encoder():
    """A small tanh MLP (seeded), not affine."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(N, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2 * K)).double()
    return lambda x: tuple(net(x).split(K, dim=1))


def mlp_decoder():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(K, 16), torch.nn.Tanh(), torch.nn.Linear(16, N)).double()


def chatty_encoder():
    """Prints on stdout when built and when called (the command must keep its stdout for the result)."""
    print("building the encoder")
    f = function_encoder()

    def encode(x):
        print("encoding", tuple(x.shape))
        return f(x)
    return encode
