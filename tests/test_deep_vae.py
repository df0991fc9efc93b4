"""The deep beta-VAE of Section V: architecture, the batched program against models trained alone,
determinism, the exact TIE against independent routes, the gauge alignment against brute force,
the canvas of Fig. 3, a whole-pipeline sanity check, and the ``train`` command."""
import doctest
import gzip
import importlib
import itertools
import json
import os

import numpy as np
import pytest
import torch

from deep.betavae import batched

from deep.betavae import data

from deep.betavae import evaluate

from deep.betavae import experiments

from deep.betavae import protocol

from deep.betavae import tie

from deep.betavae import network as vae
from deep.streams import torch_stream
from numerics import gauge
from numerics.model import fig3_mixing
from verify import cli

SMALL = vae.Architecture(N=6, k=2, encoder_hidden=(8, 7, 5), decoder_hidden=(5, 7, 8))


@pytest.fixture(autouse=True)
def one_thread():
    """As the experiments do by default: several threads can be many times slower on a shared small machine."""
    from deep.device import torch_threads
    with torch_threads(1):
        yield


# --------------------------------------------------------------------------------- architecture
def test_architecture_as_specified_and_forward_matches_numpy():
    arch = vae.Architecture(N=64, k=10)
    shapes = arch.parameter_shapes()
    assert [shapes[f"enc{i}"] for i in range(3)] == [(64, 256), (256, 200), (200, 200)]
    assert shapes["mu"] == shapes["logvar"] == (200, 10)
    assert [shapes[f"dec{i}"] for i in range(4)] == [(10, 200), (200, 200), (200, 256), (256, 64)]
    # forward pass of the batched program against a numpy transcription: tanh hidden, linear heads/output
    models = [batched.ModelKey(0, 0, 1.0), batched.ModelKey(1, 0, 1.0)]
    params = batched.stacked_initial_parameters(arch, models, 0, True, torch.float64, torch.device("cpu"))
    with torch.no_grad():                     # non-zero biases, so a dropped bias would show
        for p in params.values():
            p.add_(0.01 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    X = np.random.default_rng(0).standard_normal((2, 5, 64))
    mu, logvar = batched.encode(params, arch, torch.as_tensor(X))
    assert mu.shape == logvar.shape == (2, 5, 10)
    P = {k: v.detach().numpy() for k, v in params.items()}
    for m in range(2):
        h = X[m]
        for i in range(3):
            h = np.tanh(h @ P[f"enc{i}.W"][m] + P[f"enc{i}.b"][m])
        np.testing.assert_allclose(mu[m].detach().numpy(), h @ P["mu.W"][m] + P["mu.b"][m], rtol=1e-12)
        np.testing.assert_allclose(logvar[m].detach().numpy(), h @ P["logvar.W"][m] + P["logvar.b"][m], rtol=1e-12)
        z = np.random.default_rng(m).standard_normal((5, 10))
        g = z
        for i in range(3):
            g = np.tanh(g @ P[f"dec{i}.W"][m] + P[f"dec{i}.b"][m])
        out = batched.decode(params, arch, torch.as_tensor(z[None].repeat(2, 0)))[m].detach().numpy()
        np.testing.assert_allclose(out, g @ P["dec3.W"][m] + P["dec3.b"][m], rtol=1e-12)


def test_initialisation_is_glorot_uniform_with_zero_biases():
    params = vae.initial_parameters(vae.Architecture(N=64, k=10), torch_stream(0, "init", 0))
    W = params["enc1.W"].numpy()
    limit = np.sqrt(6.0 / (256 + 200))
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.98 * limit
    assert abs(W.var() - limit ** 2 / 3) < 0.05 * limit ** 2 / 3      # uniform(-l, l) has variance l^2 / 3
    assert all(float(params[n].abs().max()) == 0.0 for n in params if n.endswith(".b"))


# ------------------------------------------------------------------- batched = alone, determinism
def _train_alone_reference(arch, key, beta, data_r, epochs, batch_size, seed):
    """One model with torch.nn layers and its own torch.optim.Adam, fed the same streams."""
    params = vae.initial_parameters(arch, torch_stream(seed, "init", *key), dtype=torch.float64)
    model = vae.SingleVAE(arch, params).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    order_g, noise_g = torch_stream(seed, "order", *key), torch_stream(seed, "noise", *key)
    X = torch.as_tensor(data_r)
    n = len(X)
    for _ in range(epochs):
        order = torch.randperm(n, generator=order_g)
        noise = torch.randn((n, arch.k), generator=noise_g, dtype=torch.float64)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            loss = model.loss(X[idx], noise[start:start + batch_size], beta)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {name: torch.cat([layer.weight.detach().T.reshape(-1), layer.bias.detach()])
            for name, layer in model.layers.items()}


def _flat(single):
    names = sorted({n.split(".")[0] for n in single})
    return {name: torch.cat([single[f"{name}.W"].reshape(-1), single[f"{name}.b"]]) for name in names}


def test_batched_program_equals_models_trained_alone():
    rng = np.random.default_rng(0)
    train = rng.standard_normal((2, 30, 6))
    models = [batched.ModelKey(r, j, b) for r in range(2) for j, b in enumerate((0.3, 1.0, 4.0))]
    kwargs = dict(epochs=3, batch_size=7, seed=11, dtype=torch.float64, common_random_numbers=False)
    together = batched.train_batched(SMALL, models, train, **kwargs)
    for m in (1, 5):                                           # (replicate 0, beta 1) and (replicate 1, beta 4)
        model = models[m]
        alone = batched.train_batched(SMALL, [model], train, **kwargs)
        reference = _train_alone_reference(SMALL, model.stream_key(False), model.beta, train[model.replicate],
                                           3, 7, 11)
        for name, value in _flat(together.single(m)).items():
            torch.testing.assert_close(value, _flat(alone.single(0))[name], rtol=1e-10, atol=1e-12)
            torch.testing.assert_close(value, reference[name], rtol=1e-9, atol=1e-11)
    # a model really changed during training, and the betas gave different models
    assert not torch.allclose(together.params["dec0.W"][0], together.params["dec0.W"][2])


def test_models_differ_when_keys_differ_and_repeat_when_equal():
    train = np.random.default_rng(1).standard_normal((1, 20, 6))
    models = [batched.ModelKey(0, 0, 1.0), batched.ModelKey(0, 1, 1.0)]
    crn = batched.train_batched(SMALL, models, train, epochs=2, batch_size=5, seed=3, dtype=torch.float64)
    torch.testing.assert_close(crn.params["mu.W"][0], crn.params["mu.W"][1])     # same key, same beta
    own = batched.train_batched(SMALL, models, train, epochs=2, batch_size=5, seed=3, dtype=torch.float64,
                                common_random_numbers=False)
    assert not torch.allclose(own.params["mu.W"][0], own.params["mu.W"][1])


def test_thread_count_does_not_change_the_numbers():
    """The default is 1 thread for speed on shared machines; the numbers must not depend on it."""
    if torch.get_num_threads() < 2 and (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU")
    train = np.random.default_rng(2).standard_normal((1, 200, 64))
    models = [batched.ModelKey(0, j, b) for j, b in enumerate((0.5, 1.0, 2.0, 4.0))]
    arch = vae.Architecture(N=64, k=4)
    from deep.device import torch_threads
    runs = []
    for threads in (1, 2):
        with torch_threads(threads):
            runs.append(batched.train_batched(arch, models, train[:, :100], epochs=1, batch_size=50, seed=0,
                                              common_random_numbers=False))
    for name in runs[0].params:
        assert torch.equal(runs[0].params[name], runs[1].params[name]), name


TINY = protocol.reduced_fig2().with_changes(betas=(0.5, 1.0, 2.0), seeds=2, epochs=2, examples=60,
                                            batch_size=20, mc_samples=3, latents=3)


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = experiments.run_fig2(TINY, threads=1)
    b = experiments.run_fig2(TINY, threads=1)
    c = experiments.run_fig2(TINY.with_changes(seed=1), threads=1)
    for q in experiments.QUANTITIES:
        np.testing.assert_array_equal(getattr(a, q), getattr(b, q))
    assert not np.allclose(a.tie, c.tie)
    assert a.tie.shape == (2, 3) and a.alignment[0][0].is_exact
    # a model's numbers do not depend on the other models of the run (fewer betas, fewer seeds)
    d = experiments.run_fig2(TINY.with_changes(betas=(1.0,), seeds=1), threads=1)
    np.testing.assert_allclose(d.tie[0, 0], a.tie[0, 1], rtol=1e-5)
    np.testing.assert_allclose(d.reconstruction[0, 0], a.reconstruction[0, 1], rtol=1e-5)


# ---------------------------------------------------------------------------------------- TIE
def _random_problem(k, n=200, N=7, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((N, k))
    x = rng.standard_normal((n, k)) @ A.T + rng.standard_normal((n, N))
    mu = np.tanh(x @ rng.standard_normal((N, k)) * 0.3) + 0.2 * rng.standard_normal((n, k))
    var = np.exp(0.4 * rng.standard_normal((n, k)) - 1.0)
    return A, x, mu, var


def test_per_example_kl_against_torch_distributions():
    A, x, mu, var = _random_problem(3)
    post = data.ground_truth_posterior(A)
    ours = tie.kl_diagonal_to_full(mu, var, x @ post.F.T, post.E_inv)
    q = torch.distributions.MultivariateNormal(torch.as_tensor(mu), covariance_matrix=torch.diag_embed(torch.as_tensor(var)))
    p = torch.distributions.MultivariateNormal(torch.as_tensor(x @ (np.linalg.inv(A.T @ A + np.eye(3)) @ A.T).T),
                                               covariance_matrix=torch.as_tensor(np.linalg.inv(A.T @ A + np.eye(3))))
    np.testing.assert_allclose(ours, torch.distributions.kl_divergence(q, p).numpy(), rtol=1e-10)


def test_per_example_kl_against_monte_carlo():
    A, x, mu, var = _random_problem(2, n=3)
    post = data.ground_truth_posterior(A)
    rng = np.random.default_rng(5)
    z = mu[:, None, :] + np.sqrt(var)[:, None, :] * rng.standard_normal((3, 400_000, 2))
    log_q = -0.5 * np.sum((z - mu[:, None]) ** 2 / var[:, None] + np.log(2 * np.pi * var[:, None]), -1)
    d = z - (x @ post.F.T)[:, None]
    log_p = -0.5 * (np.einsum("nsi,ij,nsj->ns", d, post.E_inv, d) + 2 * np.log(2 * np.pi)
                    - np.linalg.slogdet(post.E_inv)[1])
    mc = (log_q - log_p).mean(1)
    np.testing.assert_allclose(tie.kl_diagonal_to_full(mu, var, x @ post.F.T, post.E_inv), mc, rtol=0.01, atol=0.01)


def _brute_force_tie(mu, var, x, A):
    """Every signed permutation applied to q, KL by torch.distributions, averaged: the minimum."""
    k = A.shape[1]
    post = data.ground_truth_posterior(A)
    p = torch.distributions.MultivariateNormal(torch.as_tensor(x @ post.F.T), covariance_matrix=torch.as_tensor(post.E))
    labels, mus, variances = [], [], []
    for perm in itertools.permutations(range(k)):
        for signs in itertools.product((1, -1), repeat=k):
            mu2, var2 = np.empty_like(mu), np.empty_like(var)
            for j in range(k):
                mu2[:, perm[j]] = signs[j] * mu[:, j]
                var2[:, perm[j]] = var[:, j]
            labels.append((perm, signs))
            mus.append(mu2)
            variances.append(var2)
    q = torch.distributions.MultivariateNormal(torch.as_tensor(np.array(mus)),
                                               covariance_matrix=torch.diag_embed(torch.as_tensor(np.array(variances))))
    values = torch.distributions.kl_divergence(q, p).mean(-1).numpy()        # batch (relabelling, example)
    best = int(np.argmin(values))
    return float(values[best]), labels[best]


@pytest.mark.parametrize("k,seed", [(2, 0), (3, 1), (3, 2), (4, 3)])
def test_gauge_alignment_against_brute_force(k, seed):
    A, x, mu, var = _random_problem(k, seed=seed)
    # plant a relabelling: the encoder means are a signed permutation of a noisy posterior mean
    post = data.ground_truth_posterior(A)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(k)
    mu = (x @ post.F.T)[:, perm] * rng.choice([-1.0, 1.0], k) + 0.3 * mu
    value, (best_perm, best_signs) = _brute_force_tie(mu, var, x, A)
    result = tie.true_inference_error(mu, var, x, A)
    assert result.alignment.method == "exact"
    assert result.tie == pytest.approx(value, rel=1e-9)
    assert result.alignment.permutation == best_perm and result.alignment.signs == best_signs
    assert result.tie_identity >= result.tie


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_heuristic_alignment_against_exact_enumeration(k):
    found = 0
    for seed in range(12):
        A, x, mu, var = _random_problem(k, seed=100 * k + seed)
        if seed % 2:                         # half the instances: a planted, mixed relabelling
            post = data.ground_truth_posterior(A)
            rng = np.random.default_rng(seed)
            Q = np.linalg.qr(rng.standard_normal((k, k)))[0]
            mu = (x @ post.F.T)[:, rng.permutation(k)] @ (np.eye(k) + 0.4 * Q) + 0.2 * mu
        problem = tie.alignment_problem(mu, var, x, A)
        exact, heuristic = gauge.exact_alignment(problem), gauge.heuristic_alignment(problem)
        assert heuristic.method == "heuristic" and not heuristic.is_exact
        assert heuristic.cost >= exact.cost - 1e-9 * abs(exact.cost)        # an upper bound, always
        found += heuristic.cost <= exact.cost + 1e-9 * max(1.0, abs(exact.cost))
        # the costs are those of the relabelled TIE (up to the shared terms): check one pair directly
        direct = [tie.kl_diagonal_to_full(*gauge.relabel_encodings(mu, var, a), x @ data.ground_truth_posterior(A).F.T,
                                          A.T @ A + np.eye(k)).mean() for a in (exact, heuristic)]
        assert direct[1] - direct[0] == pytest.approx(0.5 * (heuristic.cost - exact.cost), abs=1e-8)
    assert found >= 11, f"the heuristic found the optimum in only {found}/12 instances"


def test_large_k_is_exact_by_branch_and_bound_and_beyond_the_cut_off_a_flagged_heuristic():
    A, x, mu, var = _random_problem(8, N=12)
    exact = tie.true_inference_error(mu, var, x, A)
    assert exact.alignment.is_exact and "branch and bound" in exact.alignment.how
    record = tie.true_inference_error(mu, var, x, A, exact_max_k=7).alignment.to_json()
    assert record["method"] == "heuristic" and record["exact"] is False and "upper bound" in record["how"]
    # the heuristic's value is an upper bound of the exact one
    assert tie.true_inference_error(mu, var, x, A, exact_max_k=7).tie >= exact.tie - 1e-12


def test_tie_of_linear_optimum_matches_closed_form():
    """The encoder of the linear model's closed-form optimum, evaluated by the per-example route."""
    from numerics.optimum import closed_form_optimum, closed_form_terms
    A = fig3_mixing()
    beta = 1.7
    opt = closed_form_optimum(A, beta)
    x = np.random.default_rng(2).multivariate_normal(np.zeros(2), A @ A.T + np.eye(2), size=400_000)
    mu = x @ opt.W_mu.T
    var = np.tile(np.exp(opt.b_sigma[:, 0]), (len(x), 1))
    ours = tie.true_inference_error(mu, var, x, A).tie
    assert ours == pytest.approx(closed_form_terms(A, beta).tie, rel=5e-3)


# -------------------------------------------------------------------------------------- Fig. 3
def test_canvas_placement_recovers_coordinates_and_shifts_exactly():
    digit = data.sklearn_digits().images[3]
    geometry = data.canvas_geometry(8, canvas_factor=2.5)
    assert (geometry.canvas, geometry.pixels_per_unit) == (20, 0.5)
    coords = np.random.default_rng(0).uniform(-11.9, 11.9, size=(50, 2))
    canvases = data.place_on_canvas(digit, coords, geometry)
    np.testing.assert_allclose(data.recover_coordinates(canvases, digit, geometry), coords, atol=1e-10)
    np.testing.assert_allclose(canvases.sum(axis=(1, 2)), digit.sum(), rtol=1e-12)
    # whole-pixel moves: x = (2, -4) moves the digit 1 pixel right and 2 pixels up from the centre (6, 6)
    expected = np.zeros((20, 20))
    expected[4:12, 7:15] = digit
    np.testing.assert_allclose(data.place_on_canvas(digit, [[2.0, -4.0]], geometry)[0], expected, atol=1e-14)
    cut = data.place_on_canvas(digit, [[20.0, 0.0]], geometry)[0]          # partly off the canvas: cut, not wrapped
    assert cut[:, :16].sum() == 0 and 0 < cut.sum() < digit.sum()


def test_fig3_run_small():
    p = protocol.reduced_fig3().with_changes(betas=(0.5, 2.0), seeds=1, epochs=1, examples=40, batch_size=20,
                                             mc_samples=2, traversal_betas=(0.5, 60.0), traversal_steps=3)
    result = experiments.run_fig3(p, threads=1)
    assert result.tie.shape == (1, 2) and result.traversal.shape == (2, 2, 3, 16, 16)
    assert list(result.traversal_betas) == [0.5, 2.0]
    assert result.alignment[0][0].method == "exact"


# --------------------------------------------------------------------------------- the pipeline
def test_training_lowers_tie_on_a_linear_instance():
    """x = A s + eta with N = k = 2 (Fig. 3's A): training at beta = 1 beats the untrained encoder."""
    A = fig3_mixing()
    d = data.fig2_dataset(A, 400, data.numpy_stream(0, "data", 0))
    arch = vae.Architecture(N=2, k=2)
    models = [batched.ModelKey(0, 0, 1.0)]
    before = batched.train_batched(arch, models, d.inputs[None], epochs=0, batch_size=50, seed=0)
    after = batched.train_batched(arch, models, d.inputs[None], epochs=12, batch_size=50, seed=0)
    t_before = evaluate.evaluate(before, d.inputs[None], d.observed[None], A, samples=4)[0]
    t_after = evaluate.evaluate(after, d.inputs[None], d.observed[None], A, samples=4)[0]
    assert t_after.tie < 0.5 * t_before.tie
    assert t_after.elbo > t_before.elbo
    assert t_after.elbo == pytest.approx(t_after.reconstruction - t_after.kl)


def test_reconstruction_and_kl_against_direct_computation():
    """evaluate(): KL closed form against torch.distributions, reconstruction against a direct loop."""
    rng = np.random.default_rng(0)
    train = rng.standard_normal((1, 25, 6))
    A = rng.standard_normal((6, 2))
    trained = batched.train_batched(SMALL, [batched.ModelKey(0, 0, 2.0)], train, epochs=1, batch_size=5, seed=0,
                                    dtype=torch.float64)
    terms = evaluate.evaluate(trained, train, train, A, samples=4000)[0]
    model = vae.SingleVAE(SMALL, trained.single(0)).double()
    with torch.no_grad():
        mu, logvar = model.encode(torch.as_tensor(train[0]))
        q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
        kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1).mean()
        z = q.sample((4000,))
        log_px = torch.distributions.Normal(model.decode(z), 1.0).log_prob(torch.as_tensor(train[0])).sum(-1).mean()
    assert terms.kl == pytest.approx(float(kl), rel=1e-10)
    assert terms.reconstruction == pytest.approx(float(log_px), abs=4 * terms.reconstruction_se + 1e-3)
    assert terms.objective == pytest.approx(terms.reconstruction - 2.0 * terms.kl)


def test_curve_shape_counts_increases_beyond_noise_only():
    betas = np.array([0.1, 1.0, 10.0, 0.5])                      # unsorted on purpose
    recon = np.array([[-1.0, -2.0, -1.95, -1.5], [-1.1, -2.1, -2.06, -1.6]])   # beta 10: up by 0.045 < 2 SE
    arrays = {"reconstruction": recon, "reconstruction_se": np.full_like(recon, 0.1), "kl": -recon,
              "elbo": np.array([[0.0, 1.0, 0.0, 2.0], [0.0, 1.0, 0.0, 2.0]]), "tie": np.array([[5.0, 4.0, 3.0, 4.5]] * 2)}
    shape = experiments.curve_shape(betas, arrays)
    assert shape["reconstruction"]["mean_non_increasing"] and shape["reconstruction"]["realisations_non_increasing"] == 2
    assert shape["reconstruction"]["mean_increases"] == 1 and shape["reconstruction"]["realisations_strictly_non_increasing"] == 0
    arrays["reconstruction"] = recon + np.array([0, 0, 1.0, 0])     # a step up of 0.95 at beta 10 > 2 SE
    shape = experiments.curve_shape(betas, arrays)
    assert not shape["reconstruction"]["mean_non_increasing"] and shape["reconstruction"]["realisations_non_increasing"] == 0
    assert shape["elbo"]["argbest_beta"] == 0.5 and shape["tie"]["argbest_beta"] == 10.0
    assert not shape["tie"]["interior"] and shape["elbo"]["interior"]
    arrays["kl"] = np.array([[3.0, 2.0, 1.0, 1.0005], [3.0, 2.0, 1.0, 1.0005]])[:, [0, 2, 3, 1]]   # 1e-3 tolerance
    assert experiments.curve_shape(betas, arrays)["kl"]["mean_non_increasing"]


# ------------------------------------------------------------------------------------------ MNIST
def _write_idx(path, array, code=0x08, compress=False):
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


def _mnist_dir(tmp_path, compress=False):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(20, 28, 28))
    labels = np.arange(20) % 10
    _write_idx(tmp_path / ("train-images-idx3-ubyte" + (".gz" if compress else "")), images, compress=compress)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    return images, labels


def test_idx_reader_plain_and_gzip(tmp_path):
    images, labels = _mnist_dir(tmp_path)
    digits = data.load_mnist(tmp_path)
    np.testing.assert_array_equal(digits.images, images / 255.0)
    np.testing.assert_array_equal(digits.labels, labels)
    gz = tmp_path / "gz"
    gz.mkdir()
    _mnist_dir(gz, compress=True)
    np.testing.assert_array_equal(data.load_mnist(gz).images, digits.images)
    A = data.mixing_matrix(digits, 2)
    assert A.shape == (784, 2)
    np.testing.assert_array_equal(A[:, 1], images[1].reshape(-1) / 255.0)   # class 1: images 1 and 11


# -------------------------------------------------------------------------------------------- CLI
def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


FAST = ("--quick", "--epochs", "1", "--seeds", "1", "--betas", "0.5,1,2", "--mc-samples", "2", "--threads", "1")


def test_cli_json_keys_and_plot(tmp_path, capsys):
    plot = tmp_path / "fig2.png"
    status, out, err = run(capsys, "train", *FAST, "--latents", "3", "--eval", "fresh", "--json", "--plot", str(plot))
    assert status == 0, err
    doc = json.loads(out)
    assert doc["protocol"]["eval_on"] == "fresh" and doc["protocol"]["k"] == 3
    for key in ("records", "summary", "protocol", "versions", "wall_time", "device", "seeds", "betas", "dtype"):
        assert key in doc
    assert {"elbo", "reconstruction", "kl", "objective", "tie", "alignment"} <= set(doc["records"][0])
    assert {"mean", "min", "max"} == set(doc["summary"]["tie"])
    assert {d["topic"] for d in doc["protocol"]["disagreements"]} >= {"number of latents k", "batch size"}
    assert {"numpy", "scipy", "mpmath", "sympy", "torch", "betavae-audit"} <= set(doc["versions"])
    assert plot.stat().st_size > 10_000 and sorted(p.name for p in tmp_path.iterdir()) == ["fig2.png"]


def test_cli_mnist_and_fig3_text(tmp_path, capsys):
    _mnist_dir(tmp_path)
    status, out, err = run(capsys, "train", *FAST, "--latents", "2", "--mnist", str(tmp_path))
    assert status == 0, err
    assert "MNIST" in out and "k = 2" in out
    status, out, err = run(capsys, "train", "--fig3", *FAST, "--plot", str(tmp_path / "f3.png"))
    assert status == 0, err
    assert "Fig. 3" in out and (tmp_path / "f3.png").exists()
    assert "warning: traversal for beta = 60 uses the nearest trained beta, 2" in err


@pytest.mark.parametrize("argv,flag", [
    (["--betas", "1,-2"], "--betas"),
    (["--betas", "1,x"], "--betas"),
    (["--epochs", "0"], "--epochs"),
    (["--seeds", "two"], "--seeds"),
    (["--batch-size", "5000"], "--batch-size"),
    (["--fig3", "--latents", "3"], "--latents"),
    (["--mnist", "/nonexistent/mnist-dir"], "--mnist"),
    (["--plot", "/nonexistent-dir/f.png"], "--plot"),
    (["--plot", "/"], "--plot"),
    (["--threads", "0"], "--threads"),
    (["--device", "tpu"], "--device"),
])
def test_cli_bad_input_one_line_exit_2(capsys, argv, flag):
    status, out, err = run(capsys, "train", "--quick", *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {flag}: ")


def test_cli_malformed_idx_and_unwritable_plot(tmp_path, capsys):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + (5).to_bytes(4, "big") * 3 + b"\x01")
    status, out, err = run(capsys, "train", "--quick", "--mnist", str(tmp_path))
    assert status == 2 and err.count("\n") == 1 and err.startswith("error: --mnist: ") and "header" in err
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"not an idx file")
    status, out, err = run(capsys, "train", "--quick", "--mnist", str(tmp_path))
    assert status == 2 and "magic" in err
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        status, out, err = run(capsys, "train", "--quick", "--plot", str(locked / "f.png"))
        assert status == 2 and err.startswith("error: --plot: ") and err.count("\n") == 1
    finally:
        locked.chmod(0o700)


# ----------------------------------------------------------------------------------- docstrings
@pytest.mark.parametrize("name", ["deep.betavae.data", "deep.streams", "deep.device", "deep.betavae.network", "deep.betavae.tie",
                                  "deep.betavae.batched", "deep.betavae.protocol", "deep.betavae.experiments"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
