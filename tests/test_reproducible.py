"""Reproducibility: every JSON output records what decided its numbers, and the same seeds give the same numbers.

The recorded versions are checked against the libraries as imported (``numpy.__version__``, ...), an
independent route from the package metadata the record is read from. Two runs with the same arguments
must agree in everything but timing fields; a run with another seed must not (so the comparison can fail).
"""
from __future__ import annotations

import json
import math

import mpmath
import numpy
import pytest
import scipy
import sympy

import verify
from numerics.artifacts import without_timings
from verify.cli import main

from cli_run import run_main, strict_json

REQUIRED = ("toolkit", "command", "versions", "seeds", "precision", "wall_time_seconds")


def _run(argv):
    status, out, err = run_main(argv)
    assert status == 0, err
    return strict_json(out), err


def check_provenance(record: dict, argv: list[str]) -> None:
    import torch
    assert set(REQUIRED) <= set(record), set(REQUIRED) - set(record)
    assert record["toolkit"] == {"name": "betavae-audit", "version": verify.__version__}
    assert record["command"].split()[1:] == argv
    imported = {"numpy": numpy.__version__, "scipy": scipy.__version__, "mpmath": mpmath.__version__,
                "sympy": sympy.__version__, "torch": torch.__version__, "betavae-audit": verify.__version__}
    for name, version in imported.items():
        assert record["versions"][name] == version, name
    assert math.isfinite(record["wall_time_seconds"]) and record["wall_time_seconds"] >= 0
    assert isinstance(record["seeds"], dict) and isinstance(record["precision"], dict) and record["precision"]


def _provenance_of(doc):
    return [item["provenance"] for item in doc] if isinstance(doc, list) else [doc["provenance"]]


CASES = {
    "curve": (["curve", "--random", "40x3", "--seed", "5", "--loggrid", "0.1:50:7", "--json"],
              ["--seed", "5"], ["--seed", "6"], ("random_mixing_matrix", 5)),
    "optimal-beta": (["optimal-beta", "--random", "6x2", "--seed", "3", "--digits", "25", "--json"],
                     ["--seed", "3"], ["--seed", "4"], ("random_mixing_matrix", 3)),
    "stationary": (["stationary", "--random", "4x2", "--seed", "1", "--beta", "1.7", "--starts", "6",
                    "--solver-seed", "2", "--json"], ["--seed", "1"], ["--seed", "7"], ("solver_starts", 2)),
    "crosscheck": (["crosscheck", "--problem", "fig3", "--betas", "0.5,2", "--seeds", "1", "--paths", "exact",
                    "--train-seed", "3", "--json"], ["--train-seed", "3"], ["--train-seed", "4"], ("training", [3])),
    "train": (["train", "--quick", "--betas", "0.5,1,2", "--seeds", "1", "--epochs", "1", "--train-seed", "2",
               "--json"], ["--train-seed", "2"], ["--train-seed", "3"], ("base_seed", 2)),
}


def _swap(argv, old, new):
    i = next(j for j in range(len(argv) - 1) if argv[j:j + 2] == old)
    return argv[:i] + new + argv[i + 2:]


@pytest.mark.parametrize("name", list(CASES))
def test_same_seed_same_numbers_and_the_record_says_so(name):
    argv, seed_args, other_seed, (seed_key, seed_value) = CASES[name]
    first, _ = _run(argv)
    second, _ = _run(argv)
    for record in _provenance_of(first):
        check_provenance(record, argv)
        assert record["seeds"][seed_key] == seed_value
    assert without_timings(first) == without_timings(second)
    other, _ = _run(_swap(argv, seed_args, other_seed))
    strip = (lambda d: {k: v for k, v in d.items() if k != "provenance"}) if isinstance(first, dict) else \
        (lambda d: [{k: v for k, v in x.items() if k != "provenance"} for x in d])
    assert without_timings(strip(other)) != without_timings(strip(first)), "another seed gave the same numbers"


def test_optimal_beta_records_the_digits_it_confirmed():
    argv = ["optimal-beta", "--problem", "fig3", "--digits", "40", "--json"]
    doc, _ = _run(argv)
    precision = doc["provenance"]["precision"]
    assert precision["digits_requested"] == 40 and precision["digits_confirmed"] >= 40
    assert len(doc["beta_star"].replace(".", "").lstrip("0")) == 40
    assert precision["mpmath_working_dps"][1] > precision["mpmath_working_dps"][0] >= 40


def test_derive_records_its_provenance_in_the_summary_and_the_errata(tmp_path):
    argv = ["derive", "--out", str(tmp_path / "d"), "--no-pdf", "--json"]
    first, _ = _run(argv)
    check_provenance(first["provenance"], argv)
    assert first["provenance"]["precision"]["derivation"].startswith("exact")
    errata = json.loads((tmp_path / "d" / "errata.json").read_text(encoding="utf-8"))
    assert errata and all(e["provenance"]["versions"]["sympy"] == sympy.__version__ for e in errata)
    tex_first = (tmp_path / "d" / "derivations.tex").read_text(encoding="ascii")
    second, _ = _run(argv)
    assert without_timings(first) == without_timings(second)
    assert (tmp_path / "d" / "derivations.tex").read_text(encoding="ascii") == tex_first
    assert f"sympy {sympy.__version__}" in tex_first


def test_audit_claims_json_is_identical_between_runs_apart_from_timings(tmp_path):
    """Two audits of a hypothesis-hunted claim and a trained-network claim give the same claims.json."""
    only = "prop4,fig2-kl-decreasing"
    docs = []
    for _ in range(2):
        status = main(["audit", "--out", str(tmp_path / "a"), "--only", only, "--json"])
        assert status == 0
        docs.append(strict_json((tmp_path / "a" / "claims.json").read_text(encoding="utf-8")))
    assert without_timings(docs[0]) == without_timings(docs[1])
    import os
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o777 & ~umask     # not the temporary directory's 0700
    # every file (figures included: they were once 0600, written through mkstemp) as a plain open() would make it
    written = sorted((tmp_path / "a").rglob("*"))
    assert any(p.suffix == ".png" for p in written)
    modes = {str(p.relative_to(tmp_path)): oct(p.stat().st_mode & 0o777) for p in written}
    assert modes == {name: oct((0o777 if (tmp_path / name).is_dir() else 0o666) & ~umask) for name in modes}
    by_id = {r["id"]: r for r in docs[0]}
    for r in docs[0]:
        check_provenance(r["provenance"], ["audit", "--out", str(tmp_path / "a"), "--only", only, "--json"])
    # what each check noted it used: hypothesis for Proposition 4, the training seeds and dtype for Fig. 2
    assert "hypothesis" in by_id["prop4"]["provenance"]["seeds"]
    assert "family_maximisers" in by_id["prop4"]["provenance"]["precision"]
    fig2 = by_id["fig2-kl-decreasing"]["provenance"]
    assert fig2["seeds"]["fig2_training"]["base_seed"] == 0 and len(fig2["seeds"]["fig2_training"]["realisations"]) >= 2
    assert fig2["precision"]["fig2_training"].startswith("torch float32")
    run = json.loads((tmp_path / "a" / "run.json").read_text(encoding="utf-8"))
    check_provenance(run["provenance"], ["audit", "--out", str(tmp_path / "a"), "--only", only, "--json"])
    report = (tmp_path / "a" / "report.md").read_text(encoding="utf-8")
    assert f"numpy {numpy.__version__}" in report and "Seeds: " in report and "Precision: " in report


def test_the_input_fingerprint_identifies_the_matrix_not_its_file(tmp_path):
    """--problem paper and the same matrix saved to .npy and .csv: one SHA-256 of the float64 values."""
    import hashlib

    import numpy as np

    from numerics.problems import paper_problem
    A = paper_problem().A
    np.save(tmp_path / "a.npy", A)
    np.savetxt(tmp_path / "a.csv", A, delimiter=",")
    expected = hashlib.sha256(np.ascontiguousarray(A, dtype=np.float64).tobytes()).hexdigest()
    for extra in (["--problem", "paper"], ["--mixing", str(tmp_path / "a.npy")], ["--mixing", str(tmp_path / "a.csv")]):
        doc, _ = _run(["curve", "--betas", "2", "--json", *extra])
        fingerprint = doc[0]["provenance"]["input"]["mixing_matrix"]
        assert fingerprint["sha256_float64"] == expected and fingerprint["shape"] == [128, 2]
    other, _ = _run(["curve", "--betas", "2", "--json", "--problem", "fig3"])
    assert other[0]["provenance"]["input"]["mixing_matrix"]["sha256_float64"] != expected
