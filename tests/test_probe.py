"""The probe (deep.probe, ``python -m verify probe``) against independent routes.

* the closed-form optimum (numerics.optimum.closed_form_terms: the per-unit formulas generated from SymPy, not
  deep.linear.metrics) loaded as nn.Linear layers: the exact route gives its terms and a zero gap;
* a non-optimal affine encoder and decoder: the exact values against (a) a brute-force Monte-Carlo written here
  (full-matrix Gaussian KL per draw, the alignment by trying all signed permutations), within 4 standard errors, and
  (b) Gauss-Hermite quadrature over x and z of log-densities written here (N = k = 2), to 1e-12;
* the same encoder made slightly nonlinear (+1e-3 tanh): the Monte-Carlo route, within its errors of the exact value;
* the gauge: relabelled outputs give the same TIE and an alignment that reports the relabelling;
* the affine detector, and the command line (keys, exit codes, one line per bad input, the user's code run only
  when asked).
"""
from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from cli_run import run_main, strict_json
from deep.probe import ProbeInputError, probe
from deep.probe.affine import TOLERANCE, fit_affine
from numerics.model import fig3_mixing
from numerics.optimum import closed_form_optimum, closed_form_terms
from numerics.problems import random_problem

MODELS = Path(__file__).resolve().parent / "probe_models"
GOOD, BAD = MODELS / "models.py", MODELS / "bad_models.py"

# the non-optimal affine encoder and decoder of probe_models/models.py (Fig. 3's problem, N = k = 2)
from probe_models.models import B_D, B_MU, B_SIGMA, D, W_MU, W_SIGMA  # noqa: E402


def affine_encoder(W_mu, b_mu, W_sigma, b_sigma, wiggle=0.0):
    W = torch.tensor(np.vstack([W_mu, W_sigma]))
    b = torch.tensor(np.concatenate([np.ravel(b_mu), np.ravel(b_sigma)]))
    k = W_mu.shape[0]

    def encode(x):
        out = x @ W.T + b
        if wiggle:
            out = out + wiggle * torch.tanh(x).sum(dim=1, keepdim=True)
        return tuple(out.split(k, dim=1))
    return encode


def affine_decoder(D, b_D):
    D, b_D = torch.tensor(D), torch.tensor(np.ravel(b_D))
    return lambda z: z @ D.T + b_D


def optimum_as_layers(A, beta):
    p = closed_form_optimum(A, beta)
    N, k = A.shape
    mean, logvar, dec = (torch.nn.Linear(N, k).double(), torch.nn.Linear(N, k).double(),
                         torch.nn.Linear(k, N).double())
    with torch.no_grad():
        for layer, W, b in ((mean, p.W_mu, p.b_mu), (logvar, p.W_sigma, p.b_sigma), (dec, p.D, p.b_D)):
            layer.weight.copy_(torch.tensor(W))
            layer.bias.copy_(torch.tensor(np.ravel(b)))
    return (lambda x: (mean(x), logvar(x))), dec


# ------------------------------------------------------------------------------------- the closed-form optimum
@pytest.mark.parametrize("A,beta", [(fig3_mixing(), 2.0), (random_problem(7, 3, 4).A, 0.7),
                                    (0.5 * (np.ones((128, 2)) + np.eye(128, 2)), 1.1369)])
def test_the_optimum_as_linear_layers_is_measured_exactly_with_zero_gap(A, beta):
    encoder, decoder = optimum_as_layers(A, beta)
    r = probe(encoder, A, beta, decoder)
    c = closed_form_terms(A, beta)
    assert r.exact and r.routes == {"encoder": "exact", "reconstruction": "exact"} and r.samples is None
    assert r.encoder_residual <= TOLERANCE and r.decoder_residual <= TOLERANCE
    for name in ("tie", "kl", "reconstruction", "elbo", "objective"):
        value = getattr(r, name)
        assert value.se is None and value.value == pytest.approx(getattr(c, name), rel=1e-10, abs=1e-10), name
    gap = r.gap_to_optimum
    assert abs(gap.tie.value) < 1e-10 and abs(gap.loss.value) < 1e-10 and abs(gap.negative_elbo.value) < 1e-10


# ------------------------------------------------------------------------------- brute force, written here
def gaussian_kl(m1, S1, m2, S2):
    """KL(N(m1, S1) || N(m2, S2)) per row, full matrices (S1: (n, k, k), S2: (k, k) or (n, k, k))."""
    k = m1.shape[-1]
    S2_inv = np.linalg.inv(S2)
    d = m2 - m1
    trace = np.einsum("...ij,...ji->...", S2_inv, S1)
    quad = np.einsum("ni,...ij,nj->n", d, S2_inv, d)
    return 0.5 * (trace + quad - k + np.linalg.slogdet(S2)[1] - np.linalg.slogdet(S1)[1])


def signed_permutations(k):
    for perm in itertools.permutations(range(k)):
        for signs in itertools.product((1, -1), repeat=k):
            yield perm, np.array(signs)


def relabel(mu, var, perm, signs):
    """Latent j stands for source perm[j] with sign signs[j]."""
    mu2, var2 = np.empty_like(mu), np.empty_like(var)
    mu2[:, list(perm)] = mu * signs
    var2[:, list(perm)] = var
    return mu2, var2


def test_an_affine_encoder_agrees_with_a_brute_force_monte_carlo():
    A = fig3_mixing()
    beta = 2.0
    r = probe(affine_encoder(W_MU, B_MU, W_SIGMA, B_SIGMA), A, beta, affine_decoder(D, B_D))
    assert r.exact
    rng = np.random.default_rng(20240611)
    n, (N, k) = 40_000, A.shape
    x = rng.standard_normal((n, k)) @ A.T + rng.standard_normal((n, N))
    mu, var = x @ W_MU.T + B_MU, np.exp(x @ W_SIGMA.T + B_SIGMA)
    S_q = np.einsum("ni,ij->nij", var, np.eye(k))
    kl = gaussian_kl(mu, S_q, np.zeros_like(mu), np.eye(k))
    post_cov = np.linalg.inv(A.T @ A + np.eye(k))
    post_mean = x @ (post_cov @ A.T).T
    best = None
    for perm, signs in signed_permutations(k):
        m2, v2 = relabel(mu, var, perm, signs)
        values = gaussian_kl(m2, np.einsum("ni,ij->nij", v2, np.eye(k)), post_mean, post_cov)
        if best is None or values.mean() < best.mean():
            best, best_alignment = values, (perm, tuple(signs))
    z = mu + np.sqrt(var) * rng.standard_normal(mu.shape)
    recon = -0.5 * N * math.log(2 * math.pi) - 0.5 * np.sum((x - z @ D.T - B_D) ** 2, axis=1)
    for name, values in (("kl", kl), ("tie", best), ("reconstruction", recon), ("elbo", recon - kl),
                         ("objective", recon - beta * kl)):
        se = values.std(ddof=1) / math.sqrt(n)
        assert abs(getattr(r, name).value - values.mean()) < 4 * se, (name, getattr(r, name).value, values.mean(), se)
    assert (r.alignment.permutation, r.alignment.signs) == best_alignment


def test_an_affine_encoder_agrees_with_gauss_hermite_quadrature():
    """Every expectation by quadrature over x (40 x 40 nodes) and z (6 x 6 nodes, exact for the quadratic
    log-density ratios) of log-densities written here: nothing shared with the probe but the encoder (measured:
    agreement to 4e-16 relative)."""
    A = fig3_mixing()
    beta, (N, k) = 1.5, A.shape
    r = probe(affine_encoder(W_MU, B_MU, W_SIGMA, B_SIGMA), A, beta, affine_decoder(D, B_D))
    u, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / math.sqrt(2 * math.pi)
    U = np.array(list(itertools.product(u, u)))
    wx = np.prod(np.array(list(itertools.product(w, w))), axis=1)
    x = U @ np.linalg.cholesky(A @ A.T + np.eye(N)).T                  # x ~ N(0, A A^T + I)
    t, wt = np.polynomial.hermite_e.hermegauss(6)
    T = np.array(list(itertools.product(t, t)))
    wz = np.prod(np.array(list(itertools.product(wt, wt))), axis=1) / (2 * math.pi)
    mu, sd = x @ W_MU.T + B_MU, np.exp(0.5 * (x @ W_SIGMA.T + B_SIGMA))
    z = mu[:, None, :] + sd[:, None, :] * T[None, :, :]                  # (nx, nz, k): z ~ q(z|x)

    def log_normal_diag(v, mean, std):
        return np.sum(-0.5 * ((v - mean) / std) ** 2 - np.log(std) - 0.5 * math.log(2 * math.pi), axis=-1)

    def log_normal_full(v, mean, cov):
        d = v - mean
        return (-0.5 * np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d) - 0.5 * np.linalg.slogdet(cov)[1]
                - 0.5 * len(cov) * math.log(2 * math.pi))

    def average(per_node):                 # E_x E_z
        return float(wx @ (per_node @ wz))

    log_q = log_normal_diag(z, mu[:, None, :], sd[:, None, :])
    kl = average(log_q - log_normal_diag(z, 0.0, 1.0))
    recon = average(log_normal_diag(x[:, None, :], z @ D.T + B_D, 1.0))
    post_cov = np.linalg.inv(A.T @ A + np.eye(k))
    post_mean = x @ (post_cov @ A.T).T
    ties = []
    for perm, signs in signed_permutations(k):
        # latent j stands for source perm[j] with sign signs[j]: compare the relabelled z with p(s|x)
        s = np.empty_like(z)
        s[..., list(perm)] = z * signs
        ties.append(average(log_q - log_normal_full(s, post_mean[:, None, :], post_cov)))
    assert r.kl.value == pytest.approx(kl, rel=1e-12)
    assert r.reconstruction.value == pytest.approx(recon, rel=1e-12)
    assert r.tie.value == pytest.approx(min(ties), rel=1e-12)
    assert r.objective.value == pytest.approx(recon - beta * kl, rel=1e-12)
    # the gap's sign convention: probe minus optimum of TIE and of the loss -(reconstruction - beta KL)
    c = closed_form_terms(A, beta)
    assert r.gap_to_optimum.loss.value == pytest.approx(c.objective - (recon - beta * kl), rel=1e-10)
    assert r.gap_to_optimum.loss.value > 0.5
    assert r.gap_to_optimum.tie.value == pytest.approx(min(ties) - c.tie, rel=1e-10)
    assert r.gap_to_optimum.negative_elbo.value == pytest.approx(c.elbo - (recon - kl), rel=1e-10)


def test_a_slightly_nonlinear_encoder_goes_monte_carlo_within_its_errors():
    A, beta = fig3_mixing(), 2.0
    exact = probe(affine_encoder(W_MU, B_MU, W_SIGMA, B_SIGMA), A, beta, affine_decoder(D, B_D))
    wiggled = probe(affine_encoder(W_MU, B_MU, W_SIGMA, B_SIGMA, wiggle=1e-3), A, beta, affine_decoder(D, B_D),
                    samples=20_000, seed=3)
    forced = probe(affine_encoder(W_MU, B_MU, W_SIGMA, B_SIGMA), A, beta, affine_decoder(D, B_D), samples=20_000,
                   seed=4, route="monte-carlo")
    assert not wiggled.exact and wiggled.routes["encoder"] == "monte-carlo" and wiggled.encoder_residual > TOLERANCE
    assert wiggled.routes["reconstruction"] == "monte-carlo over x, exact in z" and wiggled.samples == 20_000
    assert forced.routes["reconstruction"] == "monte-carlo over x and z" and forced.encoder_residual <= TOLERANCE
    for r in (wiggled, forced):
        for name in ("tie", "kl", "reconstruction", "elbo", "objective"):
            estimate = getattr(r, name)
            assert 0 < estimate.se < 0.05 * abs(estimate.value) + 0.05, name
            assert abs(estimate.value - getattr(exact, name).value) < 4 * estimate.se, (name, estimate, exact)
        gap = r.gap_to_optimum
        assert gap.loss.se == pytest.approx(r.objective.se, rel=1e-12) and gap.tie.se == pytest.approx(r.tie.se, rel=1e-12)
        assert gap.loss.value == pytest.approx(exact.gap_to_optimum.loss.value, abs=4 * gap.loss.se)


def test_an_affine_encoder_with_a_nonlinear_decoder_keeps_kl_and_tie_exact():
    A, beta = fig3_mixing(), 2.0
    exact = probe(affine_encoder(W_MU, B_MU, W_SIGMA, B_SIGMA), A, beta, affine_decoder(D, B_D))
    D_t, b_t = torch.tensor(D), torch.tensor(B_D)
    r = probe(affine_encoder(W_MU, B_MU, W_SIGMA, B_SIGMA), A, beta,
              lambda z: z @ D_t.T + b_t + 1e-3 * torch.tanh(z).sum(dim=1, keepdim=True), samples=20_000)
    assert not r.exact and r.routes == {"encoder": "exact", "reconstruction": "monte-carlo over x and z"}
    assert r.kl.se is None and r.tie.se is None and r.kl.value == exact.kl.value and r.tie.value == exact.tie.value
    assert r.elbo.se == pytest.approx(r.reconstruction.se)
    assert abs(r.reconstruction.value - exact.reconstruction.value) < 4 * r.reconstruction.se


# ------------------------------------------------------------------------------------------------ the gauge
@pytest.mark.parametrize("wiggle", [0.0, 1e-3])
def test_relabelled_outputs_leave_tie_unchanged_and_the_alignment_reports_the_relabelling(wiggle):
    A = random_problem(6, 3, 11).A
    rng = np.random.default_rng(5)
    W_mu, b_mu = 0.3 * rng.standard_normal((3, 6)), 0.1 * rng.standard_normal(3)
    W_sigma, b_sigma = 0.02 * rng.standard_normal((3, 6)), -1.0 + 0.2 * rng.standard_normal(3)
    base = affine_encoder(W_mu, b_mu, W_sigma, b_sigma, wiggle)
    perm, signs = (2, 0, 1), torch.tensor([-1.0, 1.0, -1.0], dtype=torch.float64)

    def relabelled(x):                    # new latent j = signs[j] * old latent perm[j]
        mean, logvar = base(x)
        return mean[:, list(perm)] * signs, logvar[:, list(perm)]

    r0, r1 = probe(base, A, 1.3, samples=5000), probe(relabelled, A, 1.3, samples=5000)
    assert r0.exact == r1.exact == (wiggle == 0.0)
    assert r1.tie.value == pytest.approx(r0.tie.value, rel=1e-12) and r1.kl.value == pytest.approx(r0.kl.value, rel=1e-12)
    assert r1.tie_as_labelled.value != pytest.approx(r0.tie_as_labelled.value, rel=1e-6)
    P, S = r0.alignment.permutation, r0.alignment.signs
    assert r1.alignment.permutation == tuple(P[perm[j]] for j in range(3))
    assert r1.alignment.signs == tuple(int(signs[j]) * S[perm[j]] for j in range(3))


# --------------------------------------------------------------------------------------------- the detector
def test_the_detector_tells_affine_maps_from_others():
    rng = np.random.default_rng(0)
    points = rng.standard_normal((64, 5))
    W, c = rng.standard_normal((4, 5)), np.array([1e6, -3e5, 0.0, 2.0])
    fit = fit_affine(lambda x: x @ W.T + c, 5, points)
    assert fit.is_affine and np.allclose(fit.J, W, rtol=0, atol=1e-9) and np.array_equal(fit.c, c)
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4)).double()
    with torch.no_grad():
        assert not fit_affine(lambda x: mlp(torch.tensor(x)).numpy(), 5, points).is_affine
    tiny = fit_affine(lambda x: x @ W.T + 1.0 + 1e-6 * np.tanh(x[:, :1]), 5, points)
    assert not tiny.is_affine and 1e-9 < tiny.residual < 1e-4


def test_an_affine_encoder_with_huge_offsets_is_still_exact():
    A = fig3_mixing()
    r = probe(affine_encoder(W_MU, B_MU + 1e6, W_SIGMA, B_SIGMA), A, 2.0)
    assert r.exact and r.encoder_residual <= TOLERANCE
    assert r.kl.value == pytest.approx(0.5 * 2e12, rel=1e-6)          # the offset's mu^2 / 2 dominates


def test_a_float32_module_is_measured_as_a_float64_copy_and_left_unchanged():
    from deep.probe import load_factory
    module = load_factory(f"{GOOD}:float32_encoder", "encoder").model
    before = {k: v.clone() for k, v in module.state_dict().items()}
    r = probe(module, fig3_mixing(), 2.0)
    assert all(v.dtype == torch.float32 and torch.equal(v, before[k]) for k, v in module.state_dict().items())
    assert r.exact and any("float64 copy" in note for note in r.notes)
    assert r.gap_to_optimum.tie.value == pytest.approx(0.0, abs=1e-5)       # float32 weights of the optimum


@pytest.mark.parametrize("kwargs,field", [({"beta": 0.0}, "beta"), ({"beta": math.nan}, "beta"),
                                          ({"samples": 1}, "samples"), ({"seed": -1}, "seed"),
                                          ({"route": "exact"}, "route")])
def test_the_api_refuses_bad_arguments_naming_them(kwargs, field):
    args = {"beta": 2.0, **kwargs}
    beta = args.pop("beta")
    with pytest.raises(ProbeInputError) as err:
        probe(affine_encoder(W_MU, B_MU, W_SIGMA, B_SIGMA), fig3_mixing(), beta, **args)
    assert err.value.field == field


# ----------------------------------------------------------------------------------------- the command line
def _refused(argv, flag):
    status, out, err = run_main(argv)
    assert status == 2 and out == "", (argv, status, out)
    assert err.count("\n") == 1 and err.startswith(f"error: {flag}: ") and "Traceback" not in err, (argv, err)
    return err


def test_the_command_prints_the_promised_json():
    status, out, err = run_main(["probe", "--problem", "fig3", "--beta", "2", "--encoder", f"{GOOD}:optimal_encoder",
                                 "--decoder", f"{GOOD}:optimal_decoder", "--json"])
    assert status == 0, err
    doc = strict_json(out)
    assert {"tie", "kl", "exact", "alignment", "gap_to_optimum", "tie_se", "reconstruction", "elbo",
            "affine_residual", "routes", "why", "optimum", "provenance"} <= set(doc)
    assert doc["exact"] is True and doc["tie_se"] is None and abs(doc["gap_to_optimum"]["loss"]) < 1e-10
    assert "convention" in doc["gap_to_optimum"] and doc["alignment"]["method"] == "exact"
    inputs = doc["provenance"]["input"]
    assert inputs["encoder"]["factory"] == "optimal_encoder" and len(inputs["encoder"]["sha256"]) == 64
    assert doc["provenance"]["seeds"]["probe"] == 0


def test_the_command_monte_carlo_route_and_its_seed(tmp_path):
    base = ["probe", "--problem", "fig3", "--beta", "2", "--encoder", f"{GOOD}:mlp_encoder", "--decoder",
            f"{GOOD}:mlp_decoder", "--samples", "3000", "--json"]
    docs = [strict_json(run_main(base + extra)[1]) for extra in ([], [], ["--seed", "1"])]
    assert docs[0]["exact"] is False and docs[0]["samples"] == 3000 and docs[0]["tie_se"] > 0
    assert docs[0]["routes"] == {"encoder": "monte-carlo", "reconstruction": "monte-carlo over x and z"}
    assert docs[0]["tie"] == docs[1]["tie"] and docs[0]["tie"] != docs[2]["tie"]
    status, out, err = run_main(base[:-1])          # the table
    assert status == 0 and out.startswith("probe: Fig. 3") and "tie" in out


def test_what_the_users_code_prints_goes_to_stderr():
    status, out, err = run_main(["probe", "--problem", "fig3", "--beta", "2", "--encoder", f"{GOOD}:chatty_encoder",
                                 "--json"])
    assert status == 0 and strict_json(out)["exact"] is True and "building the encoder" in err


@pytest.mark.parametrize("factory", ["raising", "not_callable", "call_raises", "wrong_k", "wrong_rows", "nan_output",
                                     "inf_logvar", "huge_logvar", "one_tensor", "strings", "integer_output",
                                     "NOT_A_FUNCTION", "no_such_factory", "exits"])
def test_a_bad_encoder_is_refused_in_one_line(factory):
    err = _refused(["probe", "--problem", "fig3", "--beta", "2", "--encoder", f"{BAD}:{factory}"], "--encoder")
    if factory == "no_such_factory":
        assert "defines no 'no_such_factory'" in err and "raising" in err
    if factory == "wrong_k":
        assert "(the problem has k = 2)" in err


@pytest.mark.parametrize("factory", ["decoder_wrong_shape", "decoder_tuple", "decoder_nan", "raising"])
def test_a_bad_decoder_is_refused_in_one_line(factory):
    _refused(["probe", "--problem", "fig3", "--beta", "2", "--encoder", f"{GOOD}:optimal_encoder",
              "--decoder", f"{BAD}:{factory}"], "--decoder")


def test_bad_files_are_refused_in_one_line(tmp_path):
    (tmp_path / "broken.py").write_text("def make(:\n    pass\n")
    (tmp_path / "boom.py").write_text("raise ImportError('a missing dependency')\n")
    (tmp_path / "model.txt").write_text("def make():\n    return None\n")
    cases = [f"{tmp_path / 'absent.py'}:make", f"{tmp_path / 'model.txt'}:make", f"{tmp_path / 'broken.py'}:make",
             f"{tmp_path / 'boom.py'}:make", str(GOOD), f"{GOOD}:", f"{GOOD}:not-a-name", f"{tmp_path}:make"]
    messages = [_refused(["probe", "--problem", "fig3", "--beta", "2", "--encoder", spec], "--encoder") for spec in cases]
    assert "does not exist" in messages[0] and "not a .py file" in messages[1] and "syntax error at line 1" in messages[2]
    assert "ImportError: a missing dependency" in messages[3] and "FILE.py:FACTORY" in messages[4]
    _refused(["probe", "--problem", "fig3", "--beta", "2", "--encoder", f"{GOOD}:optimal_encoder", "--decoder",
              f"{tmp_path / 'absent.py'}:make"], "--decoder")


@pytest.mark.parametrize("argv,flag", [(["--beta", "x"], "--beta"), (["--beta", "0"], "--beta"),
                                       (["--beta=-1"], "--beta"), (["--beta", "inf"], "--beta"),
                                       (["--beta", "nan"], "--beta"), (["--beta", "2", "--samples", "1"], "--samples"),
                                       (["--beta", "2", "--samples", "x"], "--samples"),
                                       (["--beta", "2", "--problem", "nope"], "--problem"),
                                       (["--beta", "2", "--seed=-1"], "--seed"), ([], "--beta")])
def test_other_bad_arguments_are_refused_before_the_users_code_runs(tmp_path, monkeypatch, argv, flag):
    marker = tmp_path / "imported"
    (tmp_path / "spy.py").write_text(f"open({str(marker)!r}, 'w').close()\n"
                                     "def make():\n    return lambda x: (x, 0 * x)\n")
    _refused(["probe", "--problem", "fig3", "--encoder", f"{tmp_path / 'spy.py'}:make", *argv]
             if "--problem" not in argv else ["probe", "--encoder", f"{tmp_path / 'spy.py'}:make", *argv], flag)
    assert not marker.exists()
    status, _, err = run_main(["probe", "--problem", "fig3", "--beta", "2", "--encoder", f"{tmp_path / 'spy.py'}:make"])
    assert status == 0 and marker.exists(), err          # the spy does run when everything else is right


def test_the_encoder_option_is_required():
    _refused(["probe", "--beta", "2"], "--encoder")


@pytest.mark.parametrize("seed", [0, 1])
def test_tie_as_labelled_is_the_papers_eq_25_evaluated_directly(seed):
    """Eq. (25) with E, F of eq. (27), as printed (b_mu = 0: the printed form drops the mean offset, the audit's eq25
    finding), evaluated term by term with numpy: the probe's TIE without relabelling of a random affine encoder with
    an x-dependent log-variance (W_sigma != 0) on a random 5 x 3 problem."""
    rng = np.random.default_rng(seed)
    A = random_problem(5, 3, seed).A
    N, k = A.shape
    W_mu, W_s = rng.normal(0, 0.3, (k, N)), rng.normal(0, 0.05, (k, N))
    b_s = rng.normal(-0.5, 0.3, k)
    r = probe(affine_encoder(W_mu, np.zeros(k), W_s, b_s), A, 1.5)
    assert r.exact
    Sigma_x = A @ A.T + np.eye(N)
    E = np.linalg.inv(A.T @ A + np.eye(k))                                     # eq. (27)
    F = E @ A.T
    E_inv = np.linalg.inv(E)
    eq25 = 0.5 * (np.sum(np.diag(E_inv) * np.exp(0.5 * np.diag(W_s @ Sigma_x @ W_s.T) + b_s)) - np.sum(b_s)
                  + np.log(np.linalg.det(E)) + np.trace((F - W_mu).T @ E_inv @ (F - W_mu) @ Sigma_x) - k)
    assert r.tie_as_labelled.se is None
    assert r.tie_as_labelled.value == pytest.approx(eq25, rel=1e-10, abs=1e-12)


ADVERSARIAL = '''
import torch
from numerics.model import fig3_mixing
from numerics.optimum import closed_form_optimum
p = closed_form_optimum(fig3_mixing(), 2.0)
W, b = torch.tensor(p.W_mu), torch.tensor(p.b_mu).reshape(-1)
Ws, bs = torch.tensor(p.W_sigma), torch.tensor(p.b_sigma).reshape(-1)

def in_place():          # the optimum as a function of the x it was given, but it scales its input in place
    def f(x):
        x.mul_(2)
        return (x / 2) @ W.T + b, (x / 2) @ Ws.T + bs
    return f

def steep_logvar():      # affine, finite on the check points, but E[exp(log-variance)] overflows
    return lambda x: (x @ W.T, 300.0 * x)

def bfloat16():
    return lambda x: ((x @ W.T + b).to(torch.bfloat16), (x @ Ws.T + bs).to(torch.bfloat16))

def sparse():
    return lambda x: ((x @ W.T + b).to_sparse(), x @ Ws.T + bs)
'''


def test_adversarial_encoders_are_measured_or_refused_in_one_line(tmp_path):
    """Found by review: an encoder writing into its input must not rewrite the probe's draws (the exact optimum is
    still measured with a zero gap); overflowing population variances, bfloat16 and sparse outputs are handled."""
    (tmp_path / "adv.py").write_text(ADVERSARIAL)
    base = ["probe", "--problem", "fig3", "--beta", "2", "--samples", "2000", "--json", "--encoder"]
    status, out, err = run_main([*base, f"{tmp_path / 'adv.py'}:in_place"])
    assert status == 0, err
    doc = strict_json(out)
    assert doc["exact"] and abs(doc["gap_to_optimum"]["tie"]) < 1e-10
    for factory, words in (("steep_logvar", "overflows float64"), ("sparse", "dense tensor")):
        status, out, err = run_main([*base, f"{tmp_path / 'adv.py'}:{factory}"])
        assert status == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: --encoder: "), err
        assert words in err
    status, out, err = run_main([*base, f"{tmp_path / 'adv.py'}:bfloat16"])
    assert status == 0 and not strict_json(out)["exact"] and "bfloat16" in err and "float32" not in err


def test_a_bad_decoder_spec_is_refused_before_the_encoder_file_runs(tmp_path):
    (tmp_path / "loud.py").write_text("open(__file__ + '.ran', 'w').close()\ndef make():\n    return lambda x: x\n")
    status, out, err = run_main(["probe", "--problem", "fig3", "--beta", "2", "--encoder",
                                 f"{tmp_path / 'loud.py'}:make", "--decoder", f"{tmp_path / 'missing.py'}:f"])
    assert status == 2 and err.startswith("error: --decoder: ") and out == ""
    assert not (tmp_path / "loud.py.ran").exists()


def test_a_beta_whose_objective_overflows_is_refused_naming_it():
    status, out, err = run_main(["probe", "--problem", "fig3", "--beta", "1.7e308",
                                 "--encoder", f"{GOOD}:optimal_encoder", "--decoder", f"{GOOD}:optimal_decoder"])
    assert status == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: --beta: "), err
