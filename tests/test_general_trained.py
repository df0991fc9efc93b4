"""The trained linear network on the general model: any Sigma_x, noise, decoder and prior variance.

Independent routes. The network (deep.linear.network.exact_terms, trained by deep.linear.train.train_exact from a
small random start) knows nothing of the closed form; it is compared with

* the SymPy-generated general objective (numerics.generated.*_general, with Sigma_x formed as an N x N matrix) at
  random parameters: the factored O(N m k) formula against the derivation's trace formula;
* the closed form of numerics.optimum (general_terms, unit_parameters) at the trained optimum: the terms, and the
  parameters' gauge-invariant shape (spectrum of D^T D, encoder standard deviations, W_sigma = 0);
* brute force in N x N for the log-likelihood E_x log N(x; b_D, sigma_d^2 I + sigma_p^2 D D^T);
* a second training run for the rescaling identity: the network trained at (beta, sigma_d^2) has the parameters of
  the one trained at (beta sigma_d^2, 1), up to a signed permutation of the latents (enumerated).

Each problem's betas are chosen away from the collapse thresholds, one of them between the two (one unit collapsed),
and the choice is asserted, so a test cannot pass on a problem where nothing collapses. Wrong variances in the closed
form are told apart (the comparison is not vacuous).
"""
import itertools

import numpy as np
import pytest
import torch

from deep.linear.network import DataFactor, exact_terms, torch_tensors
from deep.linear.train import train_exact
from numerics import generated as gen
from numerics.data_spectrum import DataError, DataSpectrum
from numerics.model import Parameters
from numerics.optimum import general_terms, unit_parameters
from numerics.variances import UNIT, Variances

TOL = 1e-9


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def covariance_6x6():
    """A random 6 x 6 covariance, eigenvalues 5, 2.5 and four below 1 (eigenvectors random)."""
    Q, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(6, 6)))
    return Q @ np.diag([5.0, 2.5, 0.8, 0.5, 0.3, 0.1]) @ Q.T


MIXING_6x2 = np.random.default_rng(1).standard_normal((6, 2)) / np.sqrt(2)   # eigenvalues + 0.5: 2.149, 1.234
PAPER_LIKE = 0.5 * (np.ones((8, 2)) + np.eye(8, 2))                         # A_ij = (1 + delta_ij) / 2, N = 8
VARIANCES = Variances(decoder=0.3, prior=4.0)


def sigma_x(name):
    """Sigma_x formed as an N x N matrix (the brute-force side)."""
    if name == "covariance":
        return covariance_6x6()
    if name == "mixing":
        return MIXING_6x2 @ MIXING_6x2.T + 0.5 * np.eye(6)
    return PAPER_LIKE @ PAPER_LIKE.T + np.eye(8)


# name -> (network's data, closed form's data, variances, betas: (all units active, one collapsed))
CASES = {
    "covariance": (lambda: DataFactor.from_covariance(covariance_6x6(), 2),
                   lambda: DataSpectrum.from_covariance(covariance_6x6(), 2), UNIT, (1.0, 3.0)),
    "mixing": (lambda: DataFactor.from_mixing(MIXING_6x2, noise=0.5),
               lambda: DataSpectrum.from_mixing(MIXING_6x2, noise=0.5), Variances(noise=0.5), (0.7, 2.0)),
    # beta sigma_d^2 against the eigenvalues 6.25, 1.25: 0.6 (both active) and 2.4 (unit 2 collapsed)
    "variances": (lambda: DataFactor.from_mixing(PAPER_LIKE), lambda: DataSpectrum.from_mixing(PAPER_LIKE),
                  VARIANCES, (2.0, 8.0)),
}
RUNS = [(name, beta) for name, case in CASES.items() for beta in case[3]]

_trained = {}


def trained(name, beta, variances=None):
    """train_exact from the small random start (seed 0), cached: the tests share the runs."""
    data, _, case_variances, _ = CASES[name]
    variances = case_variances if variances is None else variances
    key = (name, beta, variances)
    if key not in _trained:
        _trained[key] = train_exact(data(), beta, 0, variances=variances)
    return _trained[key]


def random_params(rng, N, k):
    return Parameters.of(rng.normal(size=(k, N)) / np.sqrt(N), 0.5 * rng.normal(size=k),
                         0.2 * rng.normal(size=(k, N)) / np.sqrt(N), 0.5 * rng.normal(size=k),
                         rng.normal(size=(N, k)), 0.5 * rng.normal(size=N))


def log_likelihood_brute_force(p: Parameters, Sigma, variances):
    """E_{x ~ N(0, Sigma)} log N(x; b_D, s_d^2 I + s_p^2 D D^T), every matrix N x N."""
    N = Sigma.shape[0]
    C = variances.decoder * np.eye(N) + variances.prior * p.D @ p.D.T
    b = p.b_D
    return float(-0.5 * N * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(C)[1]
                 - 0.5 * np.trace(np.linalg.solve(C, Sigma + b @ b.T)))


# ------------------------------------------------------------------------------ the objective at any parameters
@pytest.mark.parametrize("name", list(CASES))
def test_factored_objective_equals_the_generated_general_objective(name):
    """At random parameters: the network's factored terms = SymPy's trace formulas with Sigma_x formed, for two
    variance settings per data kind (the case's own and decoder 0.3 / prior 4)."""
    data, _, case_variances, _ = CASES[name]
    Sigma = sigma_x(name)
    rng = np.random.default_rng(3)
    N = Sigma.shape[0]
    for variances in (case_variances, Variances(noise=case_variances.noise, decoder=0.3, prior=4.0)):
        for beta in (0.4, 2.5):
            p = random_params(rng, N, 2)
            with torch.no_grad():
                t = exact_terms(*torch_tensors(p), data(), beta, variances)
            args = (*p.arrays(), Sigma)
            assert float(t.reconstruction) == pytest.approx(
                gen.reconstruction_general(*args, variances.decoder), rel=1e-12, abs=1e-12)
            assert float(t.kl) == pytest.approx(gen.kl_general(*args, variances.prior), rel=1e-12, abs=1e-12)
            assert float(t.objective) == pytest.approx(
                gen.objective_general(*args, beta, variances.decoder, variances.prior), rel=1e-12, abs=1e-12)


def test_every_factor_of_the_same_covariance_gives_the_same_terms():
    """Sigma_x = A A^T + 0.5 I as a thin mixing factor with noise, as a covariance (eigen-factor, c = 0) and as its
    symmetric square root with c = 0: one objective."""
    Sigma = sigma_x("mixing")
    lam, U = np.linalg.eigh(Sigma)
    root = torch.tensor(U @ np.diag(np.sqrt(lam)) @ U.T)
    factors = (DataFactor.from_mixing(MIXING_6x2, noise=0.5), DataFactor.from_covariance(Sigma, 2),
               DataFactor(root, 0.0, 2))
    p = random_params(np.random.default_rng(5), 6, 2)
    with torch.no_grad():
        values = [float(exact_terms(*torch_tensors(p), f, 1.3, VARIANCES).objective) for f in factors]
    assert values == pytest.approx([values[0]] * 3, rel=1e-13)
    # a mixing matrix given as a plain tensor takes its noise from the variances
    with torch.no_grad():
        plain = float(exact_terms(*torch_tensors(p), torch.tensor(MIXING_6x2), 1.3,
                                  Variances(noise=0.5, decoder=0.3, prior=4.0)).objective)
    assert plain == values[0]


def test_bad_data_factors_are_refused():
    S = covariance_6x6()
    with pytest.raises(DataError) as err:
        DataFactor.from_covariance(S + np.triu(np.ones((6, 6)), 1), 2)
    assert err.value.field == "covariance"
    with pytest.raises(DataError) as err:
        DataFactor.from_covariance(S - 2 * np.eye(6), 2)          # eigenvalues -1.9 ... : not semi-definite
    assert err.value.field == "covariance"
    with pytest.raises(DataError) as err:
        DataFactor.from_covariance(S, 7)
    assert err.value.field == "latents"
    with pytest.raises(ValueError, match="noise"):
        DataFactor.from_mixing(MIXING_6x2, noise=-0.1)


# ------------------------------------------------------------------------------ the trained network
@pytest.mark.parametrize("name,beta", RUNS, ids=[f"{n}-beta{b}" for n, b in RUNS])
def test_trained_network_reaches_the_general_closed_form(name, beta):
    data, spectrum, variances, betas = CASES[name]
    spec = spectrum()
    units = unit_parameters(spec, beta, variances)
    assert int(units.collapsed.sum()) == betas.index(beta), "the beta was meant to collapse 0 resp. 1 unit"
    run = trained(name, beta)
    assert run.converged and run.kind == "maximum", (run.kind, run.grad_norm)
    p = run.params
    with torch.no_grad():
        t = exact_terms(*torch_tensors(p), data(), beta, variances)
    closed = general_terms(spec, beta, variances)
    network = {"objective": float(t.objective), "reconstruction": float(t.reconstruction), "kl": float(t.kl),
               "elbo": float(t.reconstruction - t.kl),
               "log_likelihood": log_likelihood_brute_force(p, sigma_x(name), variances)}
    for key, value in network.items():
        assert abs(value - getattr(closed, key)) <= TOL * max(1.0, abs(getattr(closed, key))), key
    # the gauge-invariant shape of the optimum
    dtd = np.sort(np.linalg.eigvalsh(p.D.T @ p.D))[::-1]
    assert np.abs(dtd - units.decoder_gain ** 2).max() <= TOL
    std = np.sort(np.exp(0.5 * p.b_sigma.ravel()))
    assert np.abs(std - np.sort(units.encoder_std)).max() <= TOL
    assert max(np.abs(p.W_sigma).max(), np.abs(p.b_mu).max(), np.abs(p.b_D).max()) <= TOL


def test_wrong_variances_in_the_closed_form_are_told_apart():
    """Not vacuous: the trained network at decoder 0.3 / prior 4 is far from the closed form without the decoder
    variance (terms) and without the prior variance (D^T D is 1 / sigma_p^2 of the unit-prior one)."""
    name, beta = "variances", 2.0
    spec = CASES[name][1]()
    run = trained(name, beta)
    with torch.no_grad():
        t = exact_terms(*torch_tensors(run.params), CASES[name][0](), beta, VARIANCES)
    assert abs(float(t.objective) - general_terms(spec, beta, Variances(prior=4.0)).objective) > 1.0
    dtd = np.sort(np.linalg.eigvalsh(run.params.D.T @ run.params.D))[::-1]
    assert np.abs(dtd - unit_parameters(spec, beta, Variances(decoder=0.3)).decoder_gain ** 2).max() > 1.0


# ------------------------------------------------------------------------------ rescaling identity (a)
def relabelled(p: Parameters, permutation, signs) -> np.ndarray:
    """The flat parameters after z -> G z (G: signed permutation); the log-variances are permuted, not negated."""
    G = np.zeros((2, 2))
    G[np.arange(2), list(permutation)] = signs
    P = np.abs(G)
    return np.concatenate([(G @ p.W_mu).ravel(), (G @ p.b_mu).ravel(), (P @ p.W_sigma).ravel(),
                           (P @ p.b_sigma).ravel(), (p.D @ G.T).ravel(), p.b_D.ravel()])


def gauge_distance(p: Parameters, q: Parameters) -> float:
    """min over the 8 signed permutations G of max |G p - q|."""
    return min(np.abs(relabelled(p, perm, signs) - q.flatten()).max()
               for perm in itertools.permutations(range(2)) for signs in itertools.product((1.0, -1.0), repeat=2))


@pytest.mark.parametrize("beta", CASES["variances"][3])
def test_decoder_variance_only_rescales_beta_in_the_trained_networks(beta):
    """Trained at (beta, sigma_d^2 = 0.3) and at (0.3 beta, 1), both with prior 4: the same parameters up to a
    signed permutation (two independent training runs); at (beta, 1) they differ (the identity is not vacuous)."""
    at_variance = trained("variances", beta).params
    rescaled = trained("variances", 0.3 * beta, Variances(prior=4.0))
    assert rescaled.converged
    assert gauge_distance(at_variance, rescaled.params) <= TOL
    unscaled = trained("variances", beta, Variances(prior=4.0)).params
    assert gauge_distance(at_variance, unscaled) > 0.1
