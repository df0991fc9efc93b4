"""Evidence grades (issue 14, part 3): the Step/Outcome grade rules on hand-built steps, and the grades the
equation, protocol and trained-network checks give, on hand-built inputs whose right grade is known by reading.

The expected grades are written from the rule (proved > exhaustive > sampled > measured, the weakest deciding step
wins, support steps do not count; an erratum refutes the printed form by one instance; an agreement of explicit
expressions at fixed N, k proves nothing for other N, k), never read off the code's output.
"""
from types import SimpleNamespace

import numpy as np
import pytest
import sympy as sp

from derivations.comparison import Comparison
from verify import checks_deep as CD
from verify.checks_equations import comparison_grade, equation_check
from verify.checks_protocol import check_appc_protocol
from verify.context import AuditContext
from verify.outcome import GRADES, Step, confirmed


# ------------------------------------------------------------------------------ (1) Step and Outcome
def test_step_refuses_a_grade_that_is_not_one_of_the_four():
    with pytest.raises(ValueError, match="grade must be one of"):
        Step("x", True, "", grade="certain", basis="trust me")


def test_step_refuses_a_grade_without_its_basis():
    with pytest.raises(ValueError, match="needs its basis"):
        Step("x", True, "", grade="proved")


def test_grades_are_ordered_strongest_first():
    assert GRADES == ("proved", "exhaustive", "sampled", "measured")


def _s(grade, role="claim", basis=None):
    return Step(f"{grade} {role}", True, "", role=role, grade=grade, basis=basis or (f"{grade} basis" if grade else ""))


@pytest.mark.parametrize("grades, weakest", [
    (["proved"], "proved"),
    (["proved", "exhaustive"], "exhaustive"),
    (["exhaustive", "proved", "sampled"], "sampled"),
    (["measured", "proved"], "measured"),
    (["sampled", "measured", "exhaustive"], "measured"),
])
def test_outcome_grade_is_the_weakest_deciding_grade(grades, weakest):
    assert confirmed("x", [_s(g) for g in grades]).grade == weakest


def test_outcome_grade_counts_finding_steps_and_ignores_support_steps():
    proved, measured_support, sampled_finding = _s("proved"), _s("measured", "support"), _s("sampled", "finding")
    assert confirmed("x", [proved, measured_support]).grade == "proved"
    assert confirmed("x", [proved, sampled_finding]).grade == "sampled"
    # an ungraded support step does not make the outcome ungraded; an ungraded claim step does
    assert confirmed("x", [proved, Step("s", True, "", role="support")]).grade == "proved"
    assert confirmed("x", [proved, Step("c", True, "")]).grade is None
    assert confirmed("x", [Step("s", True, "", role="support", grade="proved", basis="b")]).grade is None


def test_outcome_grade_basis_names_the_weakest_steps_only():
    o = confirmed("x", [_s("proved", basis="proofs/a"), _s("sampled", basis="9 problems"),
                        _s("sampled", basis="the paper's A")])
    assert o.grade_basis == "9 problems; the paper's A"


# ------------------------------------------------------------------------------ (2) equation claims
x, y = sp.symbols("x y", real=True)
N, k = sp.symbols("N k", positive=True, integer=True)
D = sp.Matrix(3, 2, lambda i, j: sp.Symbol(f"D_{i + 1}{j + 1}", real=True))
M = sp.MatrixSymbol("M", N, k)


def _comparison(verdict, printed, derived, evidence="printed - derived simplifies to 0", equation="99", **kw):
    return Comparison(equation, "hand-built", "", "", printed, derived, verdict, evidence, **kw)


def test_an_erratum_with_difference_and_counterexample_is_proved():
    c = _comparison("erratum", 2 * x, x, "printed - derived = x (non-zero). Numeric counterexample at {x: 1}",
                    details={"difference": x, "point": {x: 1}})
    grade, basis = comparison_grade(c)
    assert grade == "proved"
    assert "symbolic difference and numeric counterexample" in basis and "eq. (99)" in basis


def test_an_erratum_at_concrete_dimension_is_still_proved():
    """One instance refutes a printed formula meant for every N, k."""
    c = _comparison("erratum", -D, D, "printed = (-1) x the derived dL/dtheta", details={"factor": -1})
    assert comparison_grade(c)[0] == "proved"
    ill_formed = _comparison("erratum", "J A", "A^T J", "SymPy raises ShapeError (size mismatch)",
                             kind="notation (transposes misplaced)")
    assert comparison_grade(ill_formed) == ("proved", "comparison eq. (99): the literal printed form is ill-formed "
                                                      "(SymPy raises ShapeError)")


def test_a_confirmation_of_explicit_matrices_is_sampled_and_names_the_entries():
    grade, basis = comparison_grade(_comparison("confirmed", D * 2, 2 * D))
    assert grade == "sampled"
    assert "concrete dimension (entries D_11..D_32)" in basis and "not a proof for every N, k" in basis


def test_a_confirmation_in_scalar_symbols_with_k_free_is_proved():
    assert comparison_grade(_comparison("confirmed", (x - k) / 2, x / 2 - k / 2))[0] == "proved"
    # the same identity without N or k is not a statement about general dimension
    assert comparison_grade(_comparison("confirmed", (x - y) / 2, x / 2 - y / 2))[0] == "sampled"


def test_a_matrix_expression_in_the_record_is_a_display_and_the_evidence_gives_the_dimensions():
    """As eq. (21): the record shows the general form, but the comparison was made at the dimensions it names."""
    c = _comparison("confirmed-up-to-constant", sp.Trace(M.T * M), sp.Trace(M.T * M) + N,
                    "derived - printed = N (checked at (N,k) = ((3, 2), (2, 3))): free of the parameters",
                    details={"constant": N})
    grade, basis = comparison_grade(c)
    assert grade == "sampled" and "(N,k) = ((3, 2), (2, 3))" in basis
    unknown = _comparison("equivalent-condition", "0 = [D^T D]_ab", M, "printed = (-1) x derived")
    assert comparison_grade(unknown) == ("sampled", "comparison eq. (99): SymPy identity at concrete dimension, "
                                                    "every entry a symbol; not a proof for every N, k")
    assert comparison_grade(_comparison("confirmed", "a", "b", details={"dims": "general"}))[0] == "proved"


class _Document:
    """The one thing an equation check asks of its context: the comparisons of an equation."""

    def __init__(self, comps):
        self.comps = comps

    def comparisons(self, prefix):
        return [c for c in self.comps if c.equation == prefix or c.equation.startswith(prefix + ".")]


def test_an_equation_claim_is_as_weak_as_its_weakest_comparison():
    erratum = _comparison("erratum", 2 * x, x, "printed - derived = x", equation="7.1", kind="wrong expression",
                          details={"difference": x, "point": {x: 1}})
    concrete = _comparison("confirmed", D, D, equation="7.2")
    general = _comparison("confirmed", x + k, k + x, equation="7.3")
    assert equation_check("7")(_Document([erratum, general])).grade == "proved"
    o = equation_check("7")(_Document([erratum, concrete, general]))
    assert o.verdict == "corrected" and o.grade == "sampled"
    assert equation_check("7")(_Document([general])).grade == "proved"


# ------------------------------------------------------------------------------ protocol and trained networks
def test_the_protocol_check_is_exhaustive_over_the_quantities_stated_twice():
    o = check_appc_protocol(None)
    assert o.grade == "exhaustive"
    assert all(s.grade == "exhaustive" for s in o.steps)


def _trained(betas, seeds, epochs=7):
    values = np.array([[3.0 - b + 0.01 * s for b in range(len(betas))] for s in range(seeds)])
    result = SimpleNamespace(betas=np.asarray(betas, dtype=float), seeds=tuple(range(seeds)), alignment=(),
                             protocol={"name": "synthetic", "seed": 0, "epochs": epochs, "dtype": "float64",
                                       "mc_samples": 1}, kl=values,
                             reconstruction=values, elbo=values)
    ctx = AuditContext()
    ctx._memo["fig2"] = result
    return ctx


def test_trained_network_claims_are_measured_and_say_how_many_networks():
    # 6 seeds: the fewest with which the paired sign test can decide at 95% (verify.seed_statistics)
    o = CD.check_fig2_kl(_trained([0.5, 1.0, 2.0, 4.0], seeds=6))
    assert o.verdict == "confirmed" and o.grade == "measured"
    assert "6 seed(s) per beta x 4 betas, 7 epochs each" in o.grade_basis and "'synthetic'" in o.grade_basis
    assert CD.check_fig2_elbo(_trained([0.5, 1.0, 2.0], seeds=2)).grade == "measured"
