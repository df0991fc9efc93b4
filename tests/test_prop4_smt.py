"""Prop. 4 by its reduction to four numbers (derivations.proof_prop4), checked against routes that do not trust it.

(1) The SMT-LIB certificate is re-read by a fresh z3 solver from its text and must again be unsat; (2) each
counterexample z3 returns once a premise is dropped is re-evaluated here in exact fractions: it must satisfy the
kept premises and violate the conclusion; (3) brute force over small finite objective tables, every choice among
tied maximisers, exact rationals; (4) a wrong proposition (the objective A + beta B) is rejected by the same procedure.
"""
import itertools
import random
from fractions import Fraction as Fr

import z3

from derivations.proof_prop4 import prop4_section
from derivations.smt_entail import entails
from verify.checks_theorem import prop4_proof_step


def _steps():
    return {s.key: s for s in prop4_section().steps}


def test_section_holds_and_the_certificate_reruns_from_its_text():
    steps = _steps()
    assert prop4_section().holds
    cert = steps["prop4.smt.unsat"].certificate
    assert "'unsat'" in cert
    smtlib = cert.split("Query (SMT-LIB):\n", 1)[1]
    solver = z3.Solver()
    solver.add(z3.parse_smt2_string(smtlib))
    assert solver.check() == z3.unsat
    # the query really contains the three premises and the negated conclusion
    assert smtlib.count("(assert") == 4 and "(not (<= B2 B1))" in smtlib


def _model(cert: str) -> dict:
    text = cert.split("Model: ", 1)[1].split(". Query", 1)[0]
    return {k: Fr(v) for k, v in (item.split(" = ") for item in text.split(", "))}


def test_each_dropped_premise_has_a_counterexample_that_checks_out_by_hand():
    steps = _steps()
    premises = {
        "opt1": lambda m: m["A1"] - m["beta1"] * m["B1"] >= m["A2"] - m["beta1"] * m["B2"],
        "opt2": lambda m: m["A2"] - m["beta2"] * m["B2"] >= m["A1"] - m["beta2"] * m["B1"],
        "order": lambda m: m["beta2"] > m["beta1"],
    }
    for dropped in premises:
        step = steps[f"prop4.smt.without-{dropped}"]
        assert step.holds
        m = _model(step.certificate)
        assert all(check(m) for name, check in premises.items() if name != dropped), dropped
        assert m["B2"] > m["B1"], dropped
        assert not premises[dropped](m), dropped                 # the model needs the dropped premise to fail


def _maximisers(table, beta):
    values = [a - beta * b for a, b in table]
    top = max(values)
    return [i for i, v in enumerate(values) if v == top]


def test_brute_force_on_finite_objectives_with_ties():
    rnd = random.Random(7)
    checked = 0
    for _ in range(400):
        n = rnd.randint(1, 5)
        table = [(Fr(rnd.randint(-3, 3)), Fr(rnd.randint(-3, 3))) for _ in range(n)]     # (A(kappa), B(kappa))
        b1, b2 = sorted(Fr(rnd.randint(-4, 8), rnd.randint(1, 3)) for _ in range(2))
        if b1 == b2:
            continue
        for i, j in itertools.product(_maximisers(table, b1), _maximisers(table, b2)):
            assert table[j][1] <= table[i][1], (table, b1, b2, i, j)
            checked += 1
    assert checked > 300


def test_the_procedure_rejects_the_wrong_proposition():
    """For O = A + beta B the same reduction does not entail B2 <= B1 (B grows with beta there)."""
    A1, A2, B1, B2, b1, b2 = z3.Reals("A1 A2 B1 B2 beta1 beta2")
    opt1 = A1 + b1 * B1 >= A2 + b1 * B2
    opt2 = A2 + b2 * B2 >= A1 + b2 * B1
    assert entails([opt1, opt2, b2 > b1], B2 <= B1).answer == "sat"
    assert entails([opt1, opt2, b2 > b1], B2 >= B1).entailed


def test_graded_step():
    step = prop4_proof_step()
    assert step.holds and step.grade == "proved" and step.role == "claim"
    steps = _steps()
    for ref in (r.strip() for r in step.basis.split(",")):
        sec, key = ref.split("/")
        assert sec == prop4_section().key and steps[key].holds
