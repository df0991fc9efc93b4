"""The stationarity solver on the general model's data: a covariance given directly (eigenvalues below 1, one zero) and a
mixing matrix with noise. The solver knows nothing of the closed form beyond comparing with it: its random and ascent
starts find the best stationary point on their own, and it must be the general closed form (an independent route)."""
import json

import numpy as np
import pytest

from numerics.data_spectrum import DataSpectrum
from numerics.optimum import general_terms
from numerics.stationary import solve_stationary
from verify.cli import main


def _covariance():
    rng = np.random.default_rng(7)
    U, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    return U @ np.diag([3.0, 0.9, 0.4, 0.2, 0.0]) @ U.T       # below 1, and singular


@pytest.mark.parametrize("beta", [0.3, 2.0])
def test_covariance_input_best_point_is_the_general_closed_form(beta):
    S = _covariance()
    r = solve_stationary(np.zeros((5, 2)), beta, starts=16, seed=1, covariance=S)
    assert r.closed_form_found and r.closed_form_is_best
    # the objective of the best point the solver found, against general_terms (per-unit sums, no parameters)
    assert r.points[0].objective == pytest.approx(general_terms(DataSpectrum.from_covariance(S.copy(), 2), beta).objective,
                                                  rel=1e-10)


def test_noise_variance_moves_the_optimum_as_the_closed_form_says():
    A = np.array([[2.0, 0.3], [0.5, 1.0], [0.1, 0.2]])
    r = solve_stationary(A, 0.7, starts=16, seed=0, noise=0.4)
    assert r.closed_form_found and r.closed_form_is_best
    assert r.points[0].objective == pytest.approx(general_terms(DataSpectrum.from_mixing(A, 0.4), 0.7).objective, rel=1e-10)
    # and it is not the unit-noise optimum (the option changes the problem)
    assert abs(r.points[0].objective - general_terms(DataSpectrum.from_mixing(A), 0.7).objective) > 1e-3


def test_cli_covariance_and_refusals(tmp_path, capsys):
    path = tmp_path / "S.npy"
    np.save(path, _covariance())
    assert main(["stationary", "--covariance", str(path), "--latents", "2", "--beta", "0.3", "--starts", "8",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["closed_form_is_best"] is True and "covariance" in doc["provenance"]["input"]
    for argv, flag in ((["--problem", "fig3", "--decoder-variance", "2"], "--decoder-variance"),
                       (["--spectrum", "3,1", "--latents", "1"], "--spectrum"),
                       (["--covariance", str(path)], "--latents")):
        assert main(["stationary", "--beta", "1", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"error: {flag}"), err
