"""optimal-beta on the general model: beta*_general = beta*_unit(A / sigma_eta) sigma_eta^2 / sigma_d^2, every digit
certified. Independent routes: for a perfect-square noise variance A / sigma_eta is an exact rational matrix, so the
unit solver on that matrix gives the same digits; the decoder variance only divides the betas (identity (a));
the collapse thresholds are lambda_i / sigma_d^2 exactly (hand values for the paper's A: lambda = 65.25 + V, 0.25 + V)."""
from fractions import Fraction

import pytest

from numerics.model import paper_mixing
from numerics.optimal_beta import optimal_beta, rescaled
from verify.cli import main


def test_noise_variance_is_the_unit_problem_of_a_over_sigma_eta():
    a = optimal_beta(paper_mixing(exact=True), digits=25, noise=Fraction(1, 4))
    b = optimal_beta(tuple(tuple(2 * x for x in row) for row in paper_mixing(exact=True)), digits=25)   # A / (1/2)
    assert a.beta_star == b.beta_star and a.tie_star == b.tie_star


def test_a_wrong_noise_gives_other_digits():
    a = optimal_beta(paper_mixing(exact=True), digits=20, noise=Fraction(1, 4))
    b = optimal_beta(tuple(tuple(3 * x for x in row) for row in paper_mixing(exact=True)), digits=20)
    assert a.beta_star != b.beta_star


def test_rescaled_betas_and_thresholds_are_exact(capsys):
    assert main(["optimal-beta", "--problem", "paper", "--noise-variance", "2", "--decoder-variance", "0.5",
                 "--digits", "30", "--no-exact"]) == 0
    out = capsys.readouterr().out
    # thresholds lambda / sigma_d^2 = (0.25 + 2) / 0.5 and (65.25 + 2) / 0.5, to 30 digits, exactly
    assert "collapse thresholds: 4.50000000000000000000000000000, 134.500000000000000000000000000" in out
    beta_line = next(line for line in out.splitlines() if line.startswith("beta*"))
    unit = optimal_beta(paper_mixing(exact=True), digits=34, noise=2)
    expected = rescaled(unit, Fraction(4), 30).beta_star       # sigma_eta^2 / sigma_d^2 = 4
    assert beta_line.split()[2] == expected and len(expected.replace(".", "")) == 30
    tie_line = next(line for line in out.splitlines() if line.startswith("TIE*"))
    assert len(tie_line.split()[2].replace(".", "")) == 30


@pytest.mark.parametrize("value", ["0", "-1", "nan", "x"])
def test_bad_noise_variance(capsys, value):
    assert main(["optimal-beta", "--problem", "fig3", "--noise-variance", value, "--no-exact"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --noise-variance")
