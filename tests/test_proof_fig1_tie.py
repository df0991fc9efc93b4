"""Section fig1-tie (derivations/proof_fig1_tie.py): the paper's Fig. 1B proved, checked against hand values and the
float closed form, and shown to reject wrong variants (the decision procedure can say no)."""
import math

import sympy as sp
import z3

from derivations.proof_fig1_tie import fig1_tie_section, paper_gram
from derivations.smt_entail import entails
from numerics.model import paper_mixing
from numerics.optimum import closed_form_terms


def test_every_step_holds_and_the_gram_matrix_is_the_hand_value():
    assert all(s.holds for s in fig1_tie_section().steps)
    # by hand: a column has one entry 1 and 127 entries 1/2 -> 1 + 127/4; two columns share 126 entries 1/2 * 1/2 and
    # two entries 1 * 1/2 -> 126/4 + 1
    assert paper_gram()[0, 0] == 1 + sp.Rational(127, 4) and paper_gram()[0, 1] == 1 + sp.Rational(126, 4)


def test_the_gap_between_plateau_and_tie_at_one_matches_the_float_closed_form():
    # independent route: numerics' gauge-aligned TIE at beta = 1 and beyond lambda_max = 265/4 (all units collapsed)
    A = paper_mixing()
    tie_one, plateau = closed_form_terms(A, 1.0).tie, closed_form_terms(A, 100.0).tie
    exact = 65.5 / math.sqrt(2) - math.log(66.25 * 1.25) / 2
    assert abs((plateau - tie_one) - exact) < 1e-9 * exact and exact > 40


def test_the_bound_fails_for_a_weaker_overlap():
    # with overlaps 1/10 instead of 1/sqrt(2) the same bound is false: z3 must find it so
    y = sp.Rational(265, 4) * sp.Rational(5, 4)
    assert not entails([], z3.RealVal("131/2") / 10 > z3.RealVal(str(y - 1)) / 2).entailed


def test_the_flipped_representative_argument_needs_negative_overlaps():
    za, zc, zb, zt = z3.Reals("a c beta t")
    root = [za > 0, zb > 0, zb < 1 + za, zt >= 0, zt * zt * (1 + za - zb) == za]
    assert entails(root + [zc <= 0], zb * zc * zt - 1 < 0).entailed
    aligned = entails(root + [zc >= 0], zb * zc * zt - 1 < 0)      # the aligned solution does rise (beyond beta = 1)
    assert not aligned.entailed and aligned.answer == "sat"
