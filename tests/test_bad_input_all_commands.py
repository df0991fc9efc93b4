"""Every numeric or choice option of every command answers bad input the same way.

Hypothesis draws, for each (command, option), values that are wrong by construction (text that is
not a number, integers outside the option's range, unknown choices) and asserts the one error style:
exactly one line ``error: <option>: ...`` on stderr, exit status 2, nothing on stdout, no traceback,
and no file written where the command was asked to write one.
"""
from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


from cli_run import run_main


_run = run_main


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# values argparse itself would read as another option, or that the OS cannot pass (NUL), are left out
not_a_number = st.text(max_size=10).filter(lambda t: not _is_number(t) and not t.startswith("-") and "\x00" not in t
                                           and t.strip() != "auto")


def integers_outside(lo: int, hi: int):
    """Integers (as text) outside [lo, hi]; negative ones are given as --opt=-5 by the caller."""
    return st.one_of(st.integers(lo - 10**6, lo - 1), st.integers(hi + 1, hi + 10**9)).map(str)


# the probe's arguments but --beta: an encoder of the examples (whose code must not run when an option is refused)
PROBE = ["--encoder", "docs/examples/my_encoder.py:affine_encoder", "--beta", "2"]

# (command, the arguments that make the rest of the line valid and fast, option, smallest, largest)
INTEGER_OPTIONS = [
    ("stationary", ["--beta", "2", "--problem", "fig3"], "--starts", 1, 10_000),
    ("crosscheck", ["--problem", "fig3", "--paths", "exact"], "--seeds", 1, 1000),
    ("crosscheck", ["--problem", "fig3", "--paths", "exact"], "--train-seed", 0, 2**31 - 1),
    ("crosscheck", ["--problem", "fig3"], "--steps", 10, 10_000_000),
    ("crosscheck", ["--problem", "fig3"], "--refine-samples", 0, 10 ** 9),
    ("train", ["--quick"], "--seeds", 1, 100_000),
    ("train", ["--quick"], "--epochs", 1, 1_000_000),
    ("train", ["--quick"], "--train-seed", 0, 2**63 - 1),
    ("train", ["--quick"], "--latents", 1, 10),
    ("train", ["--quick"], "--batch-size", 1, 10_000_000),
    ("train", ["--quick"], "--mc-samples", 2, 1_000_000),
    ("train", ["--quick"], "--threads", 1, max(1, os.cpu_count() or 1)),
    ("train", ["--quick", "--seeds", "2", "--resume", "never-created"], "--chunk-seeds", 1, 2),
    ("optimal-beta", ["--no-exact"], "--digits", 1, 1000),
    ("probe", PROBE, "--samples", 2, 10_000_000),
    ("convert-beta", ["--library", "antixk", "--reconstruction", "mse", "--beta", "4"], "--input-dim", 1, 2**53),
    ("convert-beta", ["--library", "antixk", "--reconstruction", "mse-mn", "--beta", "4", "--input-dim", "3",
                      "--dataset-size", "1000"], "--batch-size", 1, 2**53),
]

NUMBER_OPTIONS = [(c, base, flag) for c, base, flag, _, _ in INTEGER_OPTIONS] + [
    ("stationary", ["--problem", "fig3"], "--beta"),
    ("stationary", ["--beta", "2", "--random", "3x2"], "--seed"),
    ("stationary", ["--beta", "2", "--problem", "fig3"], "--solver-seed"),
    ("curve", ["--random", "3x2"], "--seed"),
    ("crosscheck", ["--problem", "fig3"], "--betas"),
    ("train", ["--quick"], "--betas"),
    ("curve", [], "--betas"),
    ("probe", PROBE[:2], "--beta"),
    ("convert-beta", ["--library", "pythae"], "--beta"),
    ("convert-beta", ["--library", "antixk", "--reconstruction", "mse-kld-weight", "--beta", "4", "--input-dim", "3"],
     "--kld-weight"),
]


def _assert_refused(argv, flag, written=()):
    status, out, err = _run(argv)
    assert status == 2, (argv, status, err)
    assert err.count("\n") == 1 and err.startswith(f"error: {flag}: "), (argv, err)
    assert "Traceback" not in err and out == "", (argv, out)
    for path in written:
        assert not path.exists(), (argv, path)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=not_a_number)
@pytest.mark.parametrize("command,base,flag", NUMBER_OPTIONS, ids=lambda x: x if isinstance(x, str) else None)
def test_a_non_number_is_refused_naming_the_option(command, base, flag, value):
    _assert_refused([command, *base, f"{flag}={value}"], flag)


@settings(max_examples=15)
@given(data=st.data())
@pytest.mark.parametrize("command,base,flag,lo,hi", INTEGER_OPTIONS, ids=lambda x: x if isinstance(x, str) else None)
def test_an_integer_out_of_range_is_refused_naming_the_option(command, base, flag, lo, hi, data):
    value = data.draw(integers_outside(lo, hi))
    _assert_refused([command, *base, f"{flag}={value}"], flag)


@settings(max_examples=25)
@given(beta=st.one_of(st.floats(max_value=0.0, allow_nan=False), st.just(math.nan), st.just(math.inf),
                      st.floats(min_value=1e-300, max_value=0.000999, exclude_max=False),
                      st.floats(min_value=1.0001e12, max_value=1e308)))
def test_stationary_beta_outside_its_range_is_refused(beta):
    _assert_refused(["stationary", "--problem", "fig3", f"--beta={beta!r}"], "--beta")


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choice=st.text(max_size=10).filter(lambda t: "\x00" not in t and not t.startswith("-")))
@pytest.mark.parametrize("command,base,flag,valid", [
    ("crosscheck", ["--problem", "fig3"], "--paths", {"exact", "sampled", "exact,sampled", "sampled,exact"}),
    ("train", ["--quick"], "--eval", {"train", "fresh"}),
    ("train", ["--quick"], "--device", {"cpu"}),
    ("train", [], "--protocol", {"reduced", "long", "converged", "paper"}),
    ("train", ["--quick"], "--dtype", {"float32", "float64"}),
    ("curve", ["--betas", "1"], "--problem", {"paper", "fig3"}),
    ("stationary", ["--beta", "2"], "--problem", {"paper", "fig3"}),
    ("probe", PROBE, "--problem", {"paper", "fig3"}),
    ("convert-beta", ["--beta", "2"], "--library", {"pythae", "1konny", "antixk", "disentanglement_lib"}),
    ("convert-beta", ["--library", "1konny", "--beta", "2"], "--reconstruction", {"gaussian", "bernoulli"}),
], ids=lambda x: x if isinstance(x, str) else None)
def test_an_unknown_choice_is_refused_naming_the_option(command, base, flag, valid, choice):
    if choice.replace(" ", "") in valid or choice.strip() in valid or choice.startswith("cuda"):
        return
    _assert_refused([command, *base, f"{flag}={choice}"], flag)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.one_of(st.text(max_size=8), st.tuples(st.integers(-3, 5), st.integers(-3, 5)).map(lambda t: f"{t[0]}x{t[1]}"))
       .filter(lambda t: "\x00" not in t and not t.startswith("-")))
@pytest.mark.parametrize("command,base", [("curve", ["--betas", "1"]), ("optimal-beta", ["--no-exact"]),
                                          ("stationary", ["--beta", "2"]), ("crosscheck", ["--paths", "exact"])],
                         ids=lambda x: x if isinstance(x, str) else None)
def test_a_bad_random_shape_is_refused(command, base, shape):
    parts = shape.split("x")
    if len(parts) == 2 and all(p.isdigit() for p in parts) and 1 <= int(parts[1]) <= int(parts[0]):
        return              # a valid shape
    status, out, err = _run([command, *base, f"--random={shape}"])
    assert status == 2 and out == "" and err.count("\n") == 1, (shape, err)
    assert err.startswith("error: --random: "), err


@pytest.mark.parametrize("command,extra", [("derive", ["--no-pdf"]), ("audit", ["--only", "prop4"])])
def test_an_output_directory_that_is_a_file_is_refused_and_left_alone(tmp_path, command, extra):
    target = tmp_path / "file"
    target.write_text("keep me")
    for out in (target, target / "below"):
        _assert_refused([command, "--out", str(out), *extra], "--out")
    assert target.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("command,base", [
    ("curve", ["--betas", "1,2"]), ("crosscheck", ["--problem", "fig3", "--betas", "2,x"]),
    ("train", ["--quick", "--betas", "1,-1"]),
])
def test_a_plot_is_not_written_when_another_argument_is_bad(tmp_path, command, base):
    target = tmp_path / "f.png"
    status, out, err = _run([command, *base, "--plot", str(target), "--problem", "nope"] if command == "curve"
                            else [command, *base, "--plot", str(target)])
    assert status == 2 and err.count("\n") == 1 and out == ""
    assert not target.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command,extra", [("derive", ["--no-pdf"]), ("audit", ["--only", "prop4"])])
def test_an_empty_output_directory_is_refused_not_read_as_the_current_one(command, extra):
    _assert_refused([command, "--out", "", *extra], "--out")


# --------------------------------------------------------------- found by a newcomer's review
@pytest.mark.parametrize("argv,flag", [
    (["curve", "--random", "3x2", "--seed=-1"], "--seed"),
    (["optimal-beta", "--random", "3x2", "--seed=-1", "--no-exact"], "--seed"),
    (["stationary", "--problem", "fig3", "--beta", "1.5", "--solver-seed=-1"], "--solver-seed"),
    (["curve", "--random", "100000000x1000"], "--random"),
    (["curve", "--plot", "figure.txt"], "--plot"),
    (["train", "--quick", "--plot", "figure.txt"], "--plot"),
    (["train", "--quick", "--betas", "1e40"], "--betas"),
    (["curve", "--mixing", ""], "--mixing"),
    (["curve", "--plot", ""], "--plot"),
    (["curve", "--betas", "-inf"], "--betas"),
])
def test_inputs_that_used_to_crash_or_mislead(tmp_path, argv, flag, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _assert_refused(argv, flag)
    assert list(tmp_path.iterdir()) == []


def test_a_csv_renamed_npy_and_a_headed_csv_are_refused_in_plain_words(tmp_path):
    (tmp_path / "fake.npy").write_text("1,2\n3,4\n")
    status, out, err = _run(["curve", "--mixing", str(tmp_path / "fake.npy")])
    assert status == 2 and "pickle" not in err and "not a numeric .npy array" in err
    (tmp_path / "h.csv").write_text("a,b\n1,2\n3,4\n")
    status, out, err = _run(["curve", "--mixing", str(tmp_path / "h.csv")])
    assert status == 2 and "no header" in err and err.count("\n") == 1


def test_a_spreadsheet_csv_with_a_byte_order_mark_is_read(tmp_path):
    (tmp_path / "bom.csv").write_bytes("\ufeff1,2\n3,4\n5,6\n".encode("utf-8"))
    (tmp_path / "plain.csv").write_text("1,2\n3,4\n5,6\n")
    outs = [_run(["curve", "--mixing", str(tmp_path / name), "--betas", "2"])[1] for name in ("bom.csv", "plain.csv")]
    assert outs[0].splitlines()[1:] == outs[1].splitlines()[1:] and outs[0]


def test_a_matrix_near_the_float64_overflow_is_refused_naming_the_matrix(tmp_path):
    import numpy as np
    np.save(tmp_path / "big.npy", np.full((100, 2), 1e153))
    _assert_refused(["curve", "--mixing", str(tmp_path / "big.npy"), "--betas", "1,2"], "--mixing")


def test_seed_without_random_is_warned_about():
    status, out, err = _run(["curve", "--betas", "1", "--seed", "3"])
    assert status == 0 and "warning: --seed has no effect without --random" in err
