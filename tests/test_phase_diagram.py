"""The phase diagram of the TIE-optimal beta over two-source mixing matrices (numerics.phase_diagram, phase-diagram).

Independent routes: the certified mpmath optimum (numerics.optimal_beta, its own envelope and minimum search),
the general closed form numerics.optimum.terms_at (spectrum of the full matrix, alignment by linear assignment),
a brute-force beta scan, and hand facts: TIE(1) = (1 - m) trace(A^T A) with m from the eigenvector angle of a
2 x 2 symmetric matrix, TIE(1) = 0 for orthogonal columns, the paper's matrix's coordinates by hand.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from cli_run import run_main, strict_json
from numerics.artifacts import without_timings
from numerics.model import fig3_mixing, paper_mixing, spectrum
from numerics.optimal_beta import optimal_beta
from numerics.optimum import terms_at
from numerics.phase_diagram import (two_source_tie, two_source_tie_slope, mixing_coordinates, phase_diagrams,
                                    two_source_gram, two_source_mixing, two_source_optimum)

PAPER_BETA_STAR = 1.1369043710460202305     # optimal_beta(paper_mixing(), digits=20), the README's value


@pytest.fixture(scope="module")
def coarse():
    return phase_diagrams(grid=11)


def _certified(A):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return optimal_beta(A, digits=20)


def _terms_tie(t, r, s, beta):
    return terms_at(spectrum(two_source_mixing(t, r, s)), beta).tie


# ------------------------------------------------------------------------------------------------ beta*
def test_float_beta_star_agrees_with_the_certified_optimum_at_grid_points(coarse):
    seen_phases = set()
    for panel in (coarse.ratio_panel, coarse.scale_panel):
        for i, j in ((0, 0), (3, 1), (5, 4), (7, 8), (10, 6), (10, 0), (9, 9), (2, 9)):
            t, y = panel.x[j], panel.y[i]
            ratio, scale = (y, panel.fixed["scale"]) if panel.y_name == "ratio" else (panel.fixed["ratio"], y)
            ref = _certified(two_source_mixing(t, ratio, scale))
            assert panel.beta_star[i, j] == pytest.approx(float(ref.beta_star), rel=1e-9), (panel.y_name, t, y)
            tie_star = panel.tie_at_1[i, j] - panel.tie_gain[i, j]
            assert tie_star == pytest.approx(float(ref.tie_star), rel=1e-9, abs=1e-12)
            assert panel.active_units[i, j] == len(ref.active_units)
            seen_phases.add(int(panel.active_units[i, j]))
    assert seen_phases == {1, 2}, "the sample should cover both phases (weaker unit active / collapsed at beta*)"


def test_beta_star_is_the_global_minimum_of_a_brute_force_scan(coarse):
    rng = np.random.default_rng(7)
    panel = coarse.ratio_panel
    for _ in range(6):
        i, j = rng.integers(0, 11, size=2)
        t, r, s = panel.x[j], panel.y[i], panel.fixed["scale"]
        spec = spectrum(two_source_mixing(t, r, s))
        betas = np.concatenate([np.geomspace(0.05, 1.0, 50), np.linspace(1.0, 1.05 * (1 + spec.a[0]), 3000)])
        brute = min(terms_at(spec, b).tie for b in betas)
        tie_star = panel.tie_at_1[i, j] - panel.tie_gain[i, j]
        assert tie_star <= brute + 1e-12 * s      # no beta of the scan does better (it never comes from below)


def test_paper_problem_point_reproduces_the_known_beta_star(coarse):
    paper = coarse.landmarks[0]
    # by hand: a1 . a2 = 2 * (1 * 1/2) + 126 / 4 = 32.5, ||a_j||^2 = 1 + 1/4 + 126 / 4 = 32.75
    assert paper.name == "paper" and paper.ratio == 1.0 and paper.scale == pytest.approx(65.5, rel=1e-15)
    assert paper.angle == pytest.approx(math.degrees(math.acos(32.5 / 32.75)), rel=1e-12)
    assert paper.beta_star == pytest.approx(PAPER_BETA_STAR, rel=1e-12)
    # straight from the 128 x 2 matrix's Gram matrix, without the coordinates
    A = paper_mixing()
    assert float(two_source_optimum(A.T @ A).beta_star) == pytest.approx(PAPER_BETA_STAR, rel=1e-12)
    fig3 = coarse.landmarks[1]
    # by hand: columns (2.73, 0.73) and (0.73, 2.73)
    assert fig3.scale == pytest.approx(2 * (2.73 ** 2 + 0.73 ** 2)) and fig3.ratio == 1.0
    assert fig3.angle == pytest.approx(math.degrees(math.acos(2 * 2.73 * 0.73 / (2.73 ** 2 + 0.73 ** 2))), rel=1e-12)
    assert fig3.beta_star == pytest.approx(float(_certified(fig3_mixing()).beta_star), rel=1e-10)


# ------------------------------------------------------------------------------------------------ hand facts
@pytest.mark.parametrize("ratio,scale", [(1.0, 65.5), (0.5, 3.0), (0.05, 500.0), (1.0, 0.2)])
def test_orthogonal_columns_give_beta_one_and_no_gain(ratio, scale):
    assert two_source_gram(90.0, ratio, scale)[0, 1] == 0.0       # exactly diagonal: no cos(pi/2) = 6e-17
    r = two_source_optimum(two_source_gram(90.0, ratio, scale))
    assert float(r.beta_star) == 1.0 and float(r.tie_gain) == 0.0 and float(r.tie_at_1) == 0.0   # TIE >= 0, a KL
    assert abs(_terms_tie(90.0, ratio, scale, 1.0)) < 1e-12 * scale        # TIE(1) = 0, the plain VAE is optimal
    if ratio < 1:     # continuous approach to t = 90 below ratio 1 (at ratio 1 the limit is singular: see next test)
        for t in (89.0, 89.9, 89.99):
            near = float(two_source_optimum(two_source_gram(t, ratio, scale)).beta_star) - 1
            certified = float(_certified(two_source_mixing(t, ratio, scale)).beta_star) - 1
            assert 0 < near < 1e-4 and near == pytest.approx(certified, rel=1e-5)   # the gain is below rounding here


def test_tie_at_one_is_one_minus_m_times_the_scale(coarse):
    """TIE(1) = (1 - m) trace(A^T A), m = cos(phi), phi in [0, pi/4] the eigenvector angle of the 2 x 2 Gram matrix
    (tan 2 phi = 2 |g01| / |g00 - g11|): at ratio 1, m = 1/sqrt 2 for every angle below 90."""
    for panel in (coarse.ratio_panel, coarse.scale_panel):
        t, y = np.meshgrid(panel.x, panel.y)
        ratio, scale = (y, panel.fixed["scale"]) if panel.y_name == "ratio" else (panel.fixed["ratio"], y)
        c2 = scale / (1 + ratio ** 2)
        g00, g11, g01 = c2, c2 * ratio ** 2, c2 * ratio * np.cos(np.radians(t))
        m = np.cos(0.5 * np.arctan2(2 * np.abs(g01), np.abs(g00 - g11)))
        m = np.where(t == 90.0, 1.0, m)          # cos(pi/2) is 6e-17, not 0, in floats
        np.testing.assert_allclose(panel.tie_at_1, (1 - m) * (g00 + g11), rtol=1e-9, atol=1e-12)
    at_ratio_one = coarse.scale_panel
    below = at_ratio_one.x < 90
    np.testing.assert_allclose(at_ratio_one.tie_at_1[:, below],
                               (1 - 1 / math.sqrt(2)) * at_ratio_one.y[:, None] * np.ones(below.sum()), rtol=1e-9)
    assert np.all(at_ratio_one.beta_star[:, ~below] == 1.0) and np.all(at_ratio_one.beta_star[:, below] > 1.0)


def test_gain_is_nonnegative_everywhere_and_positive_off_orthogonal():
    d = phase_diagrams(grid=41)
    for panel in (d.ratio_panel, d.scale_panel):
        below = panel.x < 90
        assert np.all(panel.tie_gain >= 0) and np.all(panel.tie_gain <= panel.tie_at_1 + 1e-12)   # TIE >= 0
        assert np.all(panel.tie_gain[:, ~below] == 0)
        # TIE'(1) = m - 1 < 0: a positive gain wherever float64 can resolve it (it is ~TIE(1)^2 near t = 90)
        scale = panel.fixed.get("scale", panel.y[:, None] * np.ones_like(panel.tie_gain))
        resolvable = below[None, :] & (panel.tie_at_1 > 1e-6 * scale)
        assert resolvable.mean() > 0.8 and np.all(panel.tie_gain[resolvable] > 0)
        assert np.all(panel.beta_star >= 1.0)       # TIE decreases on (0, 1]
    rng = np.random.default_rng(3)
    for _ in range(12):       # the gain re-evaluated by the general closed form
        i, j = rng.integers(0, 41, size=2)
        t, r, s = d.ratio_panel.x[j], d.ratio_panel.y[i], d.ratio_panel.fixed["scale"]
        gain = _terms_tie(t, r, s, 1.0) - _terms_tie(t, r, s, d.ratio_panel.beta_star[i, j])
        assert gain >= -1e-12 * s and gain == pytest.approx(d.ratio_panel.tie_gain[i, j], abs=1e-11 * s)


# ------------------------------------------------------------------------------------------------ the pieces
def test_vectorised_tie_and_its_slope_match_the_general_closed_form():
    rng = np.random.default_rng(11)
    for _ in range(25):
        t, r, s = rng.uniform(1, 89), rng.uniform(0.05, 1), 10 ** rng.uniform(-1, 3)
        spec = spectrum(two_source_mixing(t, r, s))
        a = np.array(spec.a)
        m = np.max(np.abs(spec.Q[:, 0]))
        for beta in rng.uniform(0.2, 1.2 * (1 + a[0]), size=4):
            assert float(two_source_tie(a, m, beta)) == pytest.approx(terms_at(spec, beta).tie, rel=1e-11, abs=1e-11 * s)
            if np.min(np.abs(1 + a - beta)) > 1e-3 * (1 + a[0]):
                h = 1e-6 * beta
                slope = (terms_at(spec, beta + h).tie - terms_at(spec, beta - h).tie) / (2 * h)
                assert float(two_source_tie_slope(a, m, beta)) == pytest.approx(slope, rel=1e-5, abs=1e-6 * s)


def test_folding_the_angle_and_the_ratio_leaves_beta_star_unchanged():
    for t, r, s in ((30.0, 0.4, 65.5), (7.0, 1.0, 10.0), (75.0, 0.8, 2.0), (3.0, 0.2, 300.0)):
        base = two_source_optimum(two_source_gram(t, r, s))
        A = two_source_mixing(t, r, s)
        flipped = two_source_mixing(180.0 - t, r, s)   # a rotation of A diag(1, -1): source 2's sign flipped
        np.testing.assert_allclose(flipped.T @ flipped, (A * [1.0, -1.0]).T @ (A * [1.0, -1.0]), atol=1e-12 * s)
        swapped = A[:, ::-1]                            # relabelled sources: norm ratio 1/r
        for other in (flipped, A * [1.0, -1.0], swapped, two_source_mixing(t, 1 / r, s)):
            beta_star = float(two_source_optimum(other.T @ other).beta_star)
            assert beta_star == pytest.approx(float(base.beta_star), rel=1e-12)
            assert mixing_coordinates(other) == pytest.approx((t, r, s), rel=1e-9)
        assert float(_certified(flipped).beta_star) == pytest.approx(float(base.beta_star), rel=1e-9)


def test_coordinates_refuse_a_matrix_that_is_not_two_sources():
    with pytest.raises(ValueError, match="2 columns"):
        mixing_coordinates(np.ones((4, 3)))
    with pytest.raises(ValueError, match="zero"):
        mixing_coordinates(np.array([[1.0, 0.0], [2.0, 0.0]]))


# ------------------------------------------------------------------------------------------------ command line
def test_json_document_shape():
    status, out, err = run_main(["phase-diagram", "--json", "--grid", "7", "--scale", "20"])
    assert status == 0 and err == ""
    doc = strict_json(out)
    assert set(doc) == {"coordinates", "ratio_panel", "scale_panel", "landmarks", "provenance"}
    for name, y_name in (("ratio_panel", "ratio"), ("scale_panel", "scale")):
        p = doc[name]
        assert p["x"]["name"] == "angle" and p["y"]["name"] == y_name and len(p["x"]["values"]) == 7
        for key in ("beta_star", "tie_gain", "tie_at_1", "active_units"):
            assert np.asarray(p[key]).shape == (7, 7), key
    assert doc["ratio_panel"]["fixed"] == {"scale": 20.0} and doc["scale_panel"]["fixed"] == {"ratio": 1.0}
    assert [m["name"] for m in doc["landmarks"]] == ["paper", "fig3"]
    assert doc["provenance"]["command"] == "betavae-audit phase-diagram --json --grid 7 --scale 20"
    assert doc["provenance"]["precision"]["grid"] == 7
    again = strict_json(run_main(["phase-diagram", "--json", "--grid", "7", "--scale", "20"])[1])
    assert without_timings(again) == without_timings(doc)        # no seeds: the same numbers every run


def test_plot_writes_a_png_and_nothing_else(tmp_path):
    target = tmp_path / "phase.png"
    status, out, err = run_main(["phase-diagram", "--grid", "21", "--plot", str(target)])
    assert status == 0 and err == "" and f"wrote {target}" in out and "paper: t = 7.0840" in out
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 20_000
    assert [p.name for p in tmp_path.iterdir()] == ["phase.png"]


@pytest.mark.parametrize("argv,flag", [
    (["--grid", "1"], "--grid"), (["--grid", "502"], "--grid"), (["--grid", "x"], "--grid"), (["--grid=-4"], "--grid"),
    (["--scale", "0"], "--scale"), (["--scale=-1"], "--scale"), (["--scale", "nan"], "--scale"),
    (["--scale", "inf"], "--scale"), (["--scale", "x"], "--scale"), (["--scale", "1e7"], "--scale"),
    (["--plot", "figure.txt"], "--plot"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, argv, flag):
    monkeypatch.chdir(tmp_path)
    plot = [] if flag == "--plot" else ["--plot", "f.png"]
    status, out, err = run_main(["phase-diagram", *argv, *plot, "--json"])
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {flag}: "), err
    assert list(tmp_path.iterdir()) == []
