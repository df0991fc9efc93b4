"""``crosscheck`` on the general linear model: a covariance (--covariance, --latents) and the three variances.

Independent routes. The command trains the network (path (a)) and reports, per quantity, the trained value (the k x k
formulas of deep.linear.metrics) and the closed form. The test checks

* the closed-form side against numerics.optimum (general_terms, unit_parameters) called directly: plumbing;
* the trained side against a dense N x N evaluation of the *same trained parameters* (captured from the run) by
  verify/dense_gaussian.py, written from the model's definition alone (log-likelihood with the N x N covariance
  sigma_p^2 D D^T + sigma_d^2 I, MIE and TIE as Gaussian KLs, TIE brute-forced over every signed permutation);
* the dense values against the closed form: the trained network is at the general optimum, by a route that shares
  no code with the command's comparison;
* the gradient check's complex-step route refuses a perturbed general objective (it is not vacuous), and the dense
  route tells a wrong prior variance apart.

Each CLI run is path (a) on two betas, one seed (~3 s each).
"""
import json

import numpy as np
import pytest

from deep.linear import crosscheck as cc
from deep.linear.gradient_check import gradient_check
from deep.linear.metrics import LinearData
from numerics import generated as gen
from numerics.data_spectrum import DataSpectrum
from numerics.optimum import general_terms, unit_parameters
from numerics.problems import fig3_problem
from numerics.variances import UNIT, Variances
from verify import cli
from verify import dense_gaussian as dense

SCALARS = ("objective", "reconstruction", "kl", "elbo", "log_likelihood", "mie", "tie")
FIG3 = fig3_problem().A
FIG3_VARIANCES = Variances(noise=0.5, decoder=0.3, prior=4.0)
TOL = 1e-9


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def covariance_6x6():
    """A random 6 x 6 covariance with every eigenvalue below 1 (eigenvectors random)."""
    Q, _ = np.linalg.qr(np.random.default_rng(11).normal(size=(6, 6)))
    return Q @ np.diag([0.95, 0.7, 0.5, 0.3, 0.2, 0.1]) @ Q.T


def run_cli(capsys, monkeypatch, *argv):
    """``crosscheck`` with the exact-path runs captured (the parameters behind each JSON record)."""
    runs = []
    original = cc.train_exact

    def recording(*args, **kwargs):
        runs.append(original(*args, **kwargs))
        return runs[-1]
    monkeypatch.setattr(cc, "train_exact", recording)
    status = cli.main(["crosscheck", *argv])
    out, err = capsys.readouterr()
    return status, out, err, runs


def dense_values(params, Sigma, beta, variances, A=None):
    theta = dense.as_theta(params)
    sd2, sp2 = variances.decoder, variances.prior
    recon, kl = dense.reconstruction(theta, Sigma, sd2), dense.kl(theta, Sigma, sp2)
    return {"objective": dense.objective(theta, Sigma, beta, sd2, sp2), "reconstruction": recon, "kl": kl,
            "elbo": recon - kl, "log_likelihood": dense.log_likelihood(theta, Sigma, sd2, sp2),
            "mie": dense.mie(theta, Sigma, sd2, sp2),
            "tie": None if A is None else dense.tie(theta, A, variances.noise, sp2)[0]}


def check_against_routes(doc, runs, spec, Sigma, variances, A=None):
    """The JSON's closed form = numerics.optimum; its trained values = the dense evaluation of the captured runs =
    the closed form."""
    records = doc["records"]
    assert len(records) == len(runs) and all(r["path"] == "exact" for r in records)
    for rec, run in zip(records, runs):
        beta, q = rec["beta"], rec["quantities"]
        closed = general_terms(spec, beta, variances)
        units = unit_parameters(spec, beta, variances)
        assert q["dtd_eigenvalues"]["closed_form"] == pytest.approx(units.decoder_gain ** 2, rel=1e-14, abs=1e-14)
        assert q["sigma_z"]["closed_form"] == pytest.approx(units.encoder_std ** 2, rel=1e-14)
        direct = dense_values(run.params, Sigma, beta, variances, A)
        for name in SCALARS:
            if name == "tie" and A is None:
                assert q[name] == {"trained": None, "closed_form": None, "relative_error": None}
                assert closed.tie is None and direct["tie"] is None
                continue
            expected = getattr(closed, name)
            assert q[name]["closed_form"] == pytest.approx(expected, rel=1e-13, abs=1e-13), name
            assert q[name]["trained"] == pytest.approx(direct[name], rel=1e-11, abs=1e-11), name
            assert abs(direct[name] - expected) <= TOL * max(1.0, abs(expected)), (name, direct[name], expected)
        # the trained network's shape, from its parameters
        dtd = np.sort(np.linalg.eigvalsh(run.params.D.T @ run.params.D))[::-1]
        assert np.abs(dtd - units.decoder_gain ** 2).max() <= TOL
        assert max(np.abs(run.params.W_sigma).max(), np.abs(run.params.b_mu).max(), np.abs(run.params.b_D).max()) <= TOL


def test_covariance_reaches_the_general_closed_form_and_tie_is_null(tmp_path, capsys, monkeypatch):
    S = covariance_6x6()
    path = tmp_path / "cov.npy"
    np.save(path, S)
    spec = DataSpectrum.from_covariance(S.copy(), 2)
    betas = (0.3, 0.8)             # thresholds 0.7 and 0.95: both units active, then one collapsed
    assert [int(unit_parameters(spec, b).collapsed.sum()) for b in betas] == [0, 1]
    status, out, err, runs = run_cli(capsys, monkeypatch, "--covariance", str(path), "--latents", "2", "--betas",
                                     "0.3,0.8", "--seeds", "1", "--paths", "exact", "--json")
    assert status == 0, err
    doc = json.loads(out)
    assert doc["ok"] is True and doc["max_relative_error"] <= 1e-6 and doc["sampled_max_relative_error"] is None
    assert any("no sources" in n and "TIE" in n for n in doc["notes"]) and "TIE is null" in err
    assert doc["problem"]["name"] == "covariance" and doc["problem"]["variances"] == UNIT.to_json()
    assert doc["problem"]["collapse_thresholds"] == pytest.approx([0.7, 0.95], rel=1e-12)
    assert all(r["alignment"] is None for r in doc["records"])
    assert all(b["relative_error"]["tie"] is None for b in doc["per_beta"])
    assert doc["gradient_check"]["passed"] and doc["provenance"]["input"]["covariance"]["file"] == str(path)
    check_against_routes(doc, runs, spec, S, UNIT)


def test_fig3_with_noise_decoder_and_prior_variances(capsys, monkeypatch):
    spec = DataSpectrum.from_mixing(FIG3, noise=0.5)
    betas = (3.0, 20.0)            # thresholds lambda / sigma_d^2 = 15 and 41.57: both active, then one collapsed
    assert [int(unit_parameters(spec, b, FIG3_VARIANCES).collapsed.sum()) for b in betas] == [0, 1]
    status, out, err, runs = run_cli(capsys, monkeypatch, "--problem", "fig3", "--noise-variance", "0.5",
                                     "--decoder-variance", "0.3", "--prior-variance", "4", "--betas", "3,20",
                                     "--seeds", "1", "--json")      # no --paths: path (a) alone for the general model
    assert status == 0, err
    doc = json.loads(out)
    assert doc["ok"] is True and doc["max_relative_error"] <= 1e-6
    assert {r["path"] for r in doc["records"]} == {"exact"}
    assert doc["problem"]["variances"] == FIG3_VARIANCES.to_json()
    g = doc["gradient_check"]
    assert g["passed"] and g["method"].startswith("complex step") and g["max_relative_error"] <= 1e-10
    Sigma = FIG3 @ FIG3.T + 0.5 * np.eye(2)
    check_against_routes(doc, runs, spec, Sigma, FIG3_VARIANCES, A=FIG3)
    # not vacuous: the dense TIE and log-likelihood with the prior variance 1 instead of 4 are far off
    wrong = dense_values(runs[0].params, Sigma, 3.0, Variances(noise=0.5, decoder=0.3), A=FIG3)
    q = doc["records"][0]["quantities"]
    assert abs(wrong["tie"] - q["tie"]["trained"]) > 0.1
    assert abs(wrong["log_likelihood"] - q["log_likelihood"]["trained"]) > 0.1


def test_complex_step_gradient_check_refuses_a_wrong_general_objective(monkeypatch):
    data = LinearData.from_mixing(FIG3, FIG3_VARIANCES)
    assert gradient_check(data, points=1)["passed"]
    original = gen.objective_general
    monkeypatch.setattr(gen, "objective_general", lambda *a: original(*a[:-2], a[-2] * (1 + 1e-6), a[-1]))
    g = gradient_check(data, points=1)
    assert not g["passed"] and g["max_relative_error"] > 1e-8


def test_the_paper_model_as_linear_data_takes_the_paper_route():
    """LinearData.from_mixing(A) with unit variances gives the very records of the mixing matrix itself."""
    strip = lambda r: [{k: v for k, v in rec.to_json().items() if k != "wall_time"} for rec in r.records]  # noqa: E731
    a = cc.run_crosscheck(FIG3, [2.0], [0], paths=("exact",))
    b = cc.run_crosscheck(LinearData.from_mixing(FIG3), [2.0], [0], paths=("exact",))
    assert strip(a) == strip(b) and a.problem == b.problem
    with pytest.raises(ValueError, match="path \\(b\\)"):
        cc.run_crosscheck(LinearData.from_mixing(FIG3, Variances(prior=2.0)), [2.0], [0])


@pytest.mark.parametrize("argv,flag", [
    (["--spectrum", "3,2,1", "--latents", "1"], "--spectrum"),
    (["--problem", "fig3", "--latents", "2"], "--latents"),
    (["--covariance", "COV"], "--latents"),
    (["--covariance", "COV", "--latents", "2", "--paths", "exact,sampled"], "--paths"),
    (["--problem", "fig3", "--prior-variance", "2", "--paths", "sampled"], "--paths"),
    (["--problem", "fig3", "--samples", "50"], "--samples"),
    (["--covariance", "COV", "--latents", "2", "--noise-variance", "0.5"], "--noise-variance"),
    (["--problem", "fig3", "--decoder-variance", "0"], "--decoder-variance"),
])
def test_bad_general_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, argv, flag):
    cov = tmp_path / "cov.npy"
    np.save(cov, covariance_6x6())
    target = tmp_path / "cc.png"
    status = cli.main(["crosscheck", *[str(cov) if a == "COV" else a for a in argv], "--plot", str(target)])
    out, err = capsys.readouterr()
    assert status == 2 and out == "", (out, err)
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {flag}"), err
    assert not target.exists()
