"""``curve`` on the general model, end to end: the finite-sample optimum's TIE (``--samples``) against a dense N x N
evaluation (verify/dense_gaussian.py, brute force over signed permutations) and against the population as N grows; the
general JSON document; ``--parameters`` read back against the closed form's parameter record."""
import json

import numpy as np
import pytest

from numerics.data_spectrum import DataSpectrum
from numerics.optimum import general_terms, optimum_parameters
from numerics.problems import fig3_problem
from numerics.variances import Variances
from verify import dense_gaussian as dg
from verify.cli import main


def _curve_json(capsys, *argv):
    assert main(["curve", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_finite_sample_tie_is_the_dense_tie_of_the_finite_sample_optimum(capsys):
    noise, prior = 0.6, 2.5
    doc = _curve_json(capsys, "--problem", "fig3", "--samples", "40", "--seed", "4", "--betas", "0.7,3",
                      "--noise-variance", str(noise), "--prior-variance", str(prior))
    A = fig3_problem().A
    data = DataSpectrum.from_samples(A, noise, 40, 4)
    v = Variances(noise=noise, prior=prior)
    for row in doc["rows"]:
        theta = dg.as_theta(optimum_parameters(data, row["beta"], v).arrays())
        tie = dg.tie(theta, A, noise, prior)[0]
        assert row["tie"] == pytest.approx(tie, rel=1e-9)
    assert any("finite-sample optimum" in n for n in doc["notes"])


def test_finite_sample_tie_approaches_the_population(capsys):
    A = fig3_problem().A
    pop = general_terms(DataSpectrum.from_mixing(A, 0.6), 1.5, Variances(noise=0.6)).tie
    far, near = (_curve_json(capsys, "--problem", "fig3", "--samples", str(n), "--betas", "1.5",
                             "--noise-variance", "0.6")["rows"][0]["tie"] for n in (20, 200_000))
    assert abs(near - pop) < 0.01 * pop < abs(far - pop)


def test_parameters_rows_read_back_against_the_parameter_record(capsys):
    doc = _curve_json(capsys, "--problem", "fig3", "--betas", "2,20", "--parameters", "--decoder-variance", "0.5",
                      "--prior-variance", "4")
    data = DataSpectrum.from_mixing(fig3_problem().A)
    for row in doc["rows"]:
        p = optimum_parameters(data, row["beta"], Variances(decoder=0.5, prior=4.0))
        u = row["parameters"]
        assert np.allclose(u["decoder_gain"], np.linalg.norm(p.D, axis=0), rtol=1e-12)
        assert np.allclose(u["encoder_std"], np.exp(p.b_sigma.ravel() / 2), rtol=1e-12)
        # collapsed exactly where lambda_i <= beta sigma_d^2 (the fig3 eigenvalues 12.97 and 5: beta sigma_d^2 = 1, 10)
        assert u["collapsed"] == [lam <= row["beta"] * 0.5 for lam in u["eigenvalue"]]
    assert doc["variances"] == {"noise_variance": 1.0, "decoder_variance": 0.5, "prior_variance": 4.0}
