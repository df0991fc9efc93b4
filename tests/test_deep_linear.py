"""The linear beta-VAE trained with torch (deep/linear*.py, deep/linear/crosscheck.py, the crosscheck command).

Independent routes: the SymPy-generated objective and gradient (numerics.generated), the closed
form (numerics.optimum), brute force with N x N matrices in small N, Monte Carlo, and enumeration of
every signed permutation. Each important check is paired with a deliberately broken input that it
must reject.
"""
import itertools
import json
import math

import numpy as np
import pytest
import torch

from deep.linear import crosscheck as cc
from deep.linear import metrics as lm
from deep.linear import train as linear_train
from deep.linear.betas import default_betas, near_threshold
from deep.linear.plan import CrosscheckPlan, named_plan
from deep.linear.gradient_check import gradient_check
from deep.linear.hessian_operators import DenseHessian, KrylovHessian
from deep.linear.network import exact_terms, sample_data, sampled_objective, torch_tensors
from deep.linear.compare import MC_Z_LIMIT, QUANTITIES, compare, mc_prediction, reference
from deep.linear.train import ExactSettings, SampledSettings, train_exact, train_sampled
from numerics import generated as gen
from numerics import model, stationary_starts
from numerics.gauge import ENUMERATION_MAX_K, relabel_parameters, signed_permutation_matrix
from numerics.model import Parameters, spectrum
from numerics.optimum import closed_form_optimum, closed_form_terms
from numerics.problems import fig3_problem, paper_problem, random_problem
from verify import cli

FIG3 = fig3_problem().A                       # thresholds 5 and 12.97
R62 = random_problem(6, 2, seed=1).A          # thresholds ~1.77 and ~3.65
R83 = random_problem(8, 3, seed=0).A


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def random_params(rng, N, k, w_sigma=0.2):
    return Parameters.of(rng.normal(size=(k, N)) / np.sqrt(N), 0.5 * rng.normal(size=k),
                         w_sigma * rng.normal(size=(k, N)) / np.sqrt(N), 0.5 * rng.normal(size=k),
                         rng.normal(size=(N, k)), 0.5 * rng.normal(size=N))


# ------------------------------------------------------------------------------ objective and gradient
@pytest.mark.parametrize("A", [FIG3, R62, R83, paper_problem().A], ids=["fig3", "6x2", "8x3", "paper"])
def test_torch_objective_equals_generated_objective(A):
    rng = np.random.default_rng(0)
    N, k = A.shape
    Sigma = A @ A.T + np.eye(N)
    for beta in (0.3, 1.0, 7.0):
        p = random_params(rng, N, k)
        with torch.no_grad():
            t = exact_terms(*torch_tensors(p, requires_grad=True), torch.tensor(A), beta)
        assert float(t.objective) == pytest.approx(gen.objective(*p.arrays(), Sigma, beta), rel=1e-12, abs=1e-10)
        assert float(t.reconstruction) == pytest.approx(gen.reconstruction(*p.arrays(), Sigma), rel=1e-12)
        assert float(t.kl) == pytest.approx(gen.kl(*p.arrays(), Sigma), rel=1e-12, abs=1e-12)
        # the numpy k x k route of deep.linear.metrics, a third implementation
        assert lm.network_terms(p, A, beta).objective == pytest.approx(float(t.objective), rel=1e-12)


def test_sampled_objective_is_unbiased_for_the_exact_objective():
    """Mean of the reparameterised minibatch estimate over 400k draws = eq. (21), within 5 standard errors."""
    A, beta = R62, 1.7
    p = random_params(np.random.default_rng(3), *A.shape)
    ts = torch_tensors(p)
    At = torch.tensor(A)
    g = torch.Generator().manual_seed(0)
    values = []
    for _ in range(40):
        x = sample_data(At, 10000, g)
        eps = torch.randn(10000, A.shape[1], generator=g, dtype=torch.float64)
        values.append(float(sampled_objective(*ts, x, eps, beta)))
    exact = gen.objective(*p.arrays(), A @ A.T + np.eye(A.shape[0]), beta)
    se = np.std(values, ddof=1) / np.sqrt(len(values))
    assert abs(np.mean(values) - exact) < 5 * se
    assert abs(np.mean(values) - (exact + 20 * se)) > 5 * se     # the test resolves a shift of that size


def test_gradient_equals_generated_gradient():
    for A in (R83, paper_problem().A):
        g = gradient_check(A, points=3, seed=1)
        assert g["passed"] and g["max_relative_error"] <= 1e-10
        assert set(g["per_parameter"]) == {"W_mu", "b_mu", "W_sigma", "b_sigma", "D", "b_D"}


def test_gradient_check_rejects_a_perturbed_gradient(monkeypatch):
    original = gen.grad_W_sigma
    monkeypatch.setattr(gen, "grad_W_sigma", lambda *a: original(*a) * (1 + 1e-8))
    g = gradient_check(R83, points=2, seed=1)
    assert not g["passed"] and 1e-9 < g["per_parameter"]["W_sigma"] < 1e-7


# ------------------------------------------------------------------------------ trained-network quantities
def test_log_likelihood_matches_brute_force_n_by_n():
    rng = np.random.default_rng(4)
    for A in (R62, R83):
        N, k = A.shape
        p = random_params(rng, N, k)
        C = p.D @ p.D.T + np.eye(N)
        Ci = np.linalg.inv(C)
        Sigma = A @ A.T + np.eye(N)
        b_D = p.b_D[:, 0]
        brute = -N / 2 * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(C)[1] - 0.5 * (np.trace(Ci @ Sigma) + b_D @ Ci @ b_D)
        assert lm.log_likelihood(p.D, p.b_D, A) == pytest.approx(brute, rel=1e-12)
        assert lm.log_likelihood(p.D, 0 * p.b_D, A) != pytest.approx(brute, rel=1e-6)   # b_D matters


def test_mie_is_loglikelihood_minus_elbo_for_any_network():
    """E_x[log p(x) - ELBO(x)] = E_x KL(q(z|x) || p_theta(z|x)) holds for every network, biases included;
    eq. (25) without the offset term (1/2) c^T E^-1 c, c = b_mu + F b_D, fails it."""
    rng = np.random.default_rng(5)
    for A in (R62, R83, paper_problem().A):
        N, k = A.shape
        p = random_params(rng, N, k)
        identity = lm.log_likelihood(p.D, p.b_D, A) - lm.network_terms(p, A, 1.0).elbo
        assert lm.mie(p, A) == pytest.approx(identity, rel=1e-10, abs=1e-10)
        E_inv = p.D.T @ p.D + np.eye(k)
        F = np.linalg.solve(E_inv, p.D.T)
        printed = lm.inference_error(p.W_mu, 0 * p.b_mu, p.W_sigma, p.b_sigma, A, E_inv, F)   # eq. (25) as printed
        assert abs(printed - identity) > 1e-3


def _kl_monte_carlo(p, A, mean_of, precision, n=200_000, seed=0):
    """E_x KL(N(W_mu x + b_mu, diag e^{W_sigma x + b_sigma}) || N(mean_of(x), precision^-1)) by sampling x."""
    rng = np.random.default_rng(seed)
    N, k = A.shape
    x = rng.standard_normal((n, k)) @ A.T + rng.standard_normal((n, N))
    m = x @ p.W_mu.T + p.b_mu[:, 0]
    logs = x @ p.W_sigma.T + p.b_sigma[:, 0]
    d = mean_of(x) - m
    logdet = np.linalg.slogdet(precision)[1]
    kl = 0.5 * (np.exp(logs) @ np.diag(precision) + np.einsum("ni,ij,nj->n", d, precision, d) - k - logdet - logs.sum(1))
    return kl.mean(), kl.std(ddof=1) / np.sqrt(n)


def test_mie_and_tie_match_monte_carlo():
    rng = np.random.default_rng(6)
    A = R62
    N, k = A.shape
    p = random_params(rng, N, k, w_sigma=0.3)
    E = p.D.T @ p.D + np.eye(k)
    F = np.linalg.solve(E, p.D.T)
    mc, se = _kl_monte_carlo(p, A, lambda x: (x - p.b_D[:, 0]) @ F.T, E)        # model posterior (eq. 24 + decoder bias)
    assert abs(lm.mie(p, A) - mc) < 5 * se
    Et, Ft = lm.truth_posterior(A)
    mc, se = _kl_monte_carlo(p, A, lambda x: x @ Ft.T, Et)                 # ground-truth posterior (eq. 19)
    assert abs(lm.tie(p, A) - mc) < 5 * se
    assert abs(lm.inference_error(p.W_mu, 0 * p.b_mu, p.W_sigma, p.b_sigma, A, Et, Ft) - mc) > 5 * se


def test_aligned_tie_equals_brute_force_over_signed_permutations():
    rng = np.random.default_rng(7)
    for A in (R62, R83):
        N, k = A.shape
        Sigma = A @ A.T + np.eye(N)
        E, F = lm.truth_posterior(A)
        p = random_params(rng, N, k)
        brute = min(gen.inference_error(*relabel_parameters(p, signed_permutation_matrix(perm, s)).arrays()[:4],
                                        Sigma, E, F)
                    for perm in itertools.permutations(range(k)) for s in itertools.product((1, -1), repeat=k))
        aligned = lm.aligned_tie(p, A)
        assert aligned.tie == pytest.approx(brute, rel=1e-12) and aligned.alignment.method == "exact"
        # the reported relabelling achieves it, in the closed form's convention (latent j -> source perm[j])
        al = aligned.alignment
        inv = np.argsort(al.permutation)
        G = signed_permutation_matrix(inv, [al.signs[j] for j in inv])
        np.testing.assert_array_equal(G, al.to_sources())
        assert lm.tie(relabel_parameters(p, G), A) == pytest.approx(brute, rel=1e-12)


def test_alignment_recovers_a_known_relabelling_and_agrees_with_the_closed_form():
    A, beta = R83, 0.8
    opt = closed_form_optimum(A, beta)
    ct = closed_form_terms(A, beta)
    p = Parameters(*opt.arrays())
    al = lm.aligned_tie(p, A)
    assert al.tie == pytest.approx(ct.tie, rel=1e-12) and al.alignment.permutation == ct.permutation
    q = relabel_parameters(p, signed_permutation_matrix([2, 0, 1], [1, -1, -1]))   # new latent i = s_i old perm[i]
    al_q = lm.aligned_tie(q, A)
    assert al_q.tie == pytest.approx(ct.tie, rel=1e-12)
    assert al_q.alignment.permutation == tuple(ct.permutation[i] for i in (2, 0, 1))
    assert lm.tie(q, A) > ct.tie + 0.1                 # unaligned, the relabelled network looks worse


def test_alignment_beyond_exact_enumeration_is_exact_by_branch_and_bound():
    rng = np.random.default_rng(8)
    k = ENUMERATION_MAX_K + 1
    A = random_problem(10, k, seed=2).A
    opt = closed_form_optimum(A, 0.9)
    p = Parameters(*opt.arrays())
    q = relabel_parameters(p, signed_permutation_matrix(rng.permutation(k), rng.choice([-1, 1], size=k)))
    al = lm.aligned_tie(q, A)
    assert al.tie == pytest.approx(closed_form_terms(A, 0.9).tie, rel=1e-10)
    assert al.alignment.is_exact and "branch and bound" in al.alignment.how


# ------------------------------------------------------------------------------ path (a): exact objective
@pytest.mark.parametrize("A,betas", [(FIG3, (0.6, 1.3, 4.3, 5.8, 15.0)), (R62, (0.5, 1.2, 2.1, 4.5)),
                                     (R83, (0.7, 1.6))], ids=["fig3", "6x2", "8x3"])
def test_exact_path_reaches_the_closed_form(A, betas):
    t = spectrum(A).collapse_thresholds
    assert any(b < 1 for b in betas) and any(1 < b < t[0] for b in betas) or A is R83
    r = cc.run_crosscheck(A, betas, 2, paths=("exact",))
    assert r.max_relative_error < 1e-9
    for rec in r.records:
        assert rec.optimiser["converged"] and rec.optimiser["kind"] == "maximum"
        assert set(rec.comparisons) == set(QUANTITIES)


def test_exact_path_escapes_every_saddle():
    """Started exactly on each stationary point of numerics.stationary_starts.theory_points (saddles and the
    maximum), path (a) detects the saddles (positive Hessian eigenvalue at |grad| ~ 0) and ends at the maximum."""
    A, beta = R62, 0.7
    Sigma = A @ A.T + np.eye(A.shape[0])
    best = closed_form_terms(A, beta).objective
    escapes = []
    for label, params in stationary_starts.theory_points(Sigma, A.shape[1], beta):
        run = train_exact(torch.tensor(A), beta, 0, theta0=torch.tensor(model.flatten(params)))
        assert run.objective == pytest.approx(best, rel=1e-12), label
        escapes.append(run.escapes)
    assert sum(e == 0 for e in escapes) == 1 and min(e for e in escapes if e) >= 1


def test_exact_path_without_the_saddle_test_stays_on_a_saddle():
    A, beta = R62, 0.7
    Sigma = A @ A.T + np.eye(A.shape[0])
    label, params = next((lb, pr) for lb, pr in stationary_starts.theory_points(Sigma, 2, beta) if lb.startswith("shared"))
    run = train_exact(torch.tensor(A), beta, 0, ExactSettings(max_escapes=0), theta0=torch.tensor(model.flatten(params)))
    assert run.kind == "saddle" and not run.converged
    assert run.objective < closed_form_terms(A, beta).objective - 1e-3


@pytest.mark.parametrize("operator,residual", [(DenseHessian, 1e-12), (KrylovHessian, 1e-2)])
def test_hessian_operators_against_a_known_matrix(operator, residual):
    """Both operators on a quadratic with a known Hessian M: the damped solves satisfy (-M + mu I) x = g
    (CG to its forcing term, relative residual <= 1e-2 here), the extremes equal eigvalsh(M), and an
    indefinite M is neither solvable at mu = 0 nor called definite."""
    rng = np.random.default_rng(4)
    Q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    for eigenvalues, definite in ((-np.geomspace(0.1, 10.0, 12), True), (np.r_[0.5, -np.geomspace(0.1, 10.0, 11)], False)):
        M = Q @ np.diag(eigenvalues) @ Q.T
        Mt = torch.tensor(M)
        op = operator(lambda t, Mt=Mt: 0.5 * t @ (Mt @ t)).at(torch.zeros(12, dtype=torch.float64))
        g = torch.tensor(rng.normal(size=12))
        top, bottom, _ = op.extremes()
        assert (top, bottom) == pytest.approx((eigenvalues.max(), eigenvalues.min()), rel=1e-8)
        assert op.definite(g) is definite
        mu = 0.0 if definite else 1.0
        if not definite:
            assert op.solve(g, 0.0) is None
        step = op.solve(g, mu).numpy()
        assert np.linalg.norm((-M + mu * np.eye(12)) @ step - g.numpy()) <= residual * np.linalg.norm(g.numpy())


def test_exact_path_with_hessian_vector_products_escapes_a_saddle(monkeypatch):
    """The matrix-free finish (CG, Lanczos saddle test), forced on a small problem, leaves a saddle and
    reaches the same maximum as the closed form."""
    monkeypatch.setattr(linear_train, "NEWTON_MAX_PARAMS", 10)
    A, beta = R62, 0.7
    Sigma = A @ A.T + np.eye(A.shape[0])
    label, params = next((lb, pr) for lb, pr in stationary_starts.theory_points(Sigma, 2, beta) if lb.startswith("shared"))
    run = train_exact(torch.tensor(A), beta, 0, theta0=torch.tensor(model.flatten(params)))
    assert run.hessian_method == "lanczos" and run.escapes >= 1 and run.kind == "maximum"
    assert run.objective == pytest.approx(closed_form_terms(A, beta).objective, rel=1e-12)


def test_deliberately_wrong_closed_form_is_caught():
    """The comparison is not vacuous: against the closed form at another beta, path (a) is 'wrong'."""
    A = FIG3
    run = train_exact(torch.tensor(A), 2.0, 0)
    comps = compare(lm.trained_quantities(run.params, A, 2.0), reference(A, 2.2))
    assert max(c.relative_error for c in comps.values()) > 1e-3


# ------------------------------------------------------------------------------ path (b): samples
def test_sampled_path_within_monte_carlo_tolerance():
    """Averaged Adam iterates ~ N(optimum, H^-1 S H^-1 / n) (Polyak-Juditsky; deep/linear/compare.py).
    Measured on this problem: observed/predicted rms 0.6-1.75 over 8 seeds and all quantities, so
    z <= 6 for every quantity is a tolerance a converged run passes and a biased one does not."""
    A, beta = FIG3, 1.5
    s = SampledSettings(steps=8000, batch=256, lr=1e-2, decay_fraction=0.8, average_fraction=0.2)
    n = (s.steps - s.average_start) * s.batch
    pred = mc_prediction(A, beta, n, grad_samples=5000)
    ref = reference(A, beta)
    run = train_sampled(torch.tensor(A), beta, 0, s)
    comps = compare(lm.trained_quantities(run.params, A, beta), ref)
    z = {q: comps[q].relative_error / pred.rms[q] for q in QUANTITIES}
    assert max(z.values()) <= MC_Z_LIMIT, z
    assert comps["tie"].relative_error < 0.05 and comps["dtd_eigenvalues"].relative_error < 0.05
    # a run stopped early (600 steps) is not within Monte-Carlo error of the optimum
    short = SampledSettings(steps=600, batch=256, lr=1e-2, decay_fraction=0.8, average_fraction=0.2)
    pred_s = mc_prediction(A, beta, (short.steps - short.average_start) * short.batch, grad_samples=5000)
    comps_s = compare(lm.trained_quantities(train_sampled(torch.tensor(A), beta, 2, short).params, A, beta), ref)
    assert max(comps_s[q].relative_error / pred_s.rms[q] for q in QUANTITIES) > MC_Z_LIMIT


# ------------------------------------------------------------------------------ API, protocols, determinism
def test_audit_plan_brackets_one_and_the_first_threshold():
    A = paper_problem().A
    betas = default_betas(A, reduced=True)
    t = spectrum(A).collapse_thresholds
    assert t == pytest.approx([1.25, 66.25])
    assert any(b < 1 for b in betas) and any(1 < b < 1.25 for b in betas) and any(b > 1.25 for b in betas)
    assert not near_threshold(betas, A, rel=0.05)
    assert not near_threshold(default_betas(A), A, rel=0.05)
    assert named_plan("audit").name == "audit" and not named_plan("audit").mc_prediction


def test_same_seed_same_numbers_and_json_round_trip():
    proto = CrosscheckPlan(name="test", sampled=SampledSettings(steps=300), mc_prediction=False, gradient_points=1)
    runs = [cc.run_crosscheck(R62, [0.8, 2.5], [3], plan=proto) for _ in range(2)]
    strip = lambda r: [{k: v for k, v in rec.to_json().items() if k != "wall_time"} for rec in r.records]   # noqa: E731
    assert strip(runs[0]) == strip(runs[1])
    other = cc.run_crosscheck(R62, [0.8, 2.5], [4], plan=proto)
    assert strip(other) != strip(runs[0])
    from numerics.artifacts import dumps
    doc = json.loads(dumps(runs[0].to_json()))
    assert {"max_relative_error", "records", "gradient_check", "protocol", "environment", "wall_time",
            "per_beta"} <= set(doc)
    assert {r["path"] for r in doc["records"]} == {"exact", "sampled"}


def test_bad_api_input_raises():
    with pytest.raises(ValueError):
        cc.run_crosscheck(FIG3, [0.0], 1)
    with pytest.raises(ValueError):
        cc.run_crosscheck(FIG3, [1.0], 0)
    with pytest.raises(ValueError):
        cc.run_crosscheck(FIG3, [1.0], 1, paths=("other",))
    with pytest.raises(ValueError):
        cc.run_crosscheck(np.ones((2, 3)), [1.0], 1)


# ------------------------------------------------------------------------------ command line
def run_cli(capsys, *argv):
    status = cli.main(["crosscheck", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_json(capsys):
    status, out, err = run_cli(capsys, "--problem", "fig3", "--betas", "0.5,2,6", "--seeds", "2", "--paths", "exact",
                               "--json")
    assert status == 0, err
    doc = json.loads(out)
    assert doc["max_relative_error"] < 1e-9 and doc["ok"] is True
    assert {"gradient_check", "per_beta", "records", "protocol", "environment", "wall_time"} <= set(doc)
    env = doc["environment"]
    assert env["dtype"] == "float64" and env["seeds"] == [0, 1] and env["verify_version"]
    assert {"numpy", "scipy", "mpmath", "sympy", "torch"} <= set(env["versions"])
    rec = doc["records"][0]
    assert {"trained", "closed_form", "relative_error"} == set(rec["quantities"]["tie"])
    assert "lbfgs_iterations" in rec["optimiser"] and "newton_steps" in rec["optimiser"]
    assert [b["beta"] for b in doc["per_beta"]] == [0.5, 2.0, 6.0]


def test_cli_table_and_plot(tmp_path, capsys):
    target = tmp_path / "cc.png"
    status, out, err = run_cli(capsys, "--problem", "fig3", "--betas", "0.7,6", "--seeds", "1", "--train-seed", "5",
                               "--steps", "500", "--plot", str(target))
    assert status == 0, err
    assert "path (a)" in out and "path (b)" in out and "max_relative_error" in out
    assert target.stat().st_size > 20_000 and sorted(p.name for p in tmp_path.iterdir()) == ["cc.png"]


@pytest.mark.parametrize("argv,flag", [
    (["--betas", "0,1"], "--betas"), (["--betas", "nan"], "--betas"), (["--betas", "-2"], "--betas"),
    (["--betas", "inf"], "--betas"), (["--betas", "a"], "--betas"), (["--seeds", "0"], "--seeds"),
    (["--seeds", "x"], "--seeds"), (["--train-seed", "-1"], "--train-seed"), (["--paths", "exact,foo"], "--paths"),
    (["--paths", ""], "--paths"), (["--plot", "/no/such/dir/f.png"], "--plot"), (["--plot", "f.xyz"], "--plot"),
    (["--steps", "5"], "--steps"), (["--problem", "nope"], "--problem"), (["--random", "2x3"], "--random"), (["--quick", "--frob"], "--frob"),
])
def test_cli_bad_input_is_one_line_exit_2(capsys, argv, flag):
    status, out, err = run_cli(capsys, *argv)
    assert status == 2 and out == "", (out, err)
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {flag}"), err


def test_cli_plot_into_a_directory_is_refused(tmp_path, capsys):
    status, out, err = run_cli(capsys, "--problem", "fig3", "--plot", str(tmp_path))
    assert status == 2 and err.startswith("error: --plot") and list(tmp_path.iterdir()) == []


def test_cli_warns_on_a_threshold(capsys):
    status, out, err = run_cli(capsys, "--problem", "fig3", "--betas", "5", "--seeds", "1", "--paths", "exact")
    assert status == 0 and "warning: beta = 5 sits on a collapse threshold" in err
    assert math.isfinite(float(out.split("max_relative_error (path a, every quantity, beta and seed) = ")[1].split()[0]))
