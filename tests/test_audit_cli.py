"""The ``audit`` command: outputs, exit statuses, bad usage, atomic replacement of the report."""
import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from verify import audit as audit_module
from verify import catalogue
from verify.cli import main

ROOT = Path(__file__).resolve().parent.parent
CHEAP = "prop4,appc-protocol,fig1-loglik-decreasing"


@pytest.fixture(scope="module")
def warm_document_cache():
    """Fill the (test-isolated) document cache once, so the audit's derive process reads it."""
    from derivations.document import load_or_build
    load_or_build()


def _audit(args, cwd):
    return subprocess.run([sys.executable, "-m", "verify", "audit", *args], capture_output=True, text=True, cwd=cwd,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})


def test_audit_writes_every_output_and_rerun_replaces_it(tmp_path, warm_document_cache):
    out = tmp_path / "report"
    r = _audit(["--out", str(out), "--only", CHEAP], tmp_path)
    assert r.returncode == 0, r.stderr
    claims = json.loads((out / "claims.json").read_text())
    assert [c["id"] for c in claims] == [i for i in catalogue.ids() if i in CHEAP.split(",")]   # catalogue order
    for c in claims:
        assert set(c) >= {"id", "section", "statement", "verdict", "evidence"}
        assert c["verdict"] in ("confirmed", "refuted", "corrected", "qualified", "not-checked")
    report = (out / "report.md").read_text()
    for c in claims:
        assert f"### {c['id']}" in report and f"test_claim[{c['id']}]" in report
    assert (out / "figures" / "fig1.png").stat().st_size > 10_000
    assert "![fig1.png](figures/fig1.png)" in report
    assert (out / "derivation" / "derivations.tex").exists() and (out / "derivation" / "errata.json").exists()
    # the equation ledger: every numbered equation once, and the run's verdict beside each equation a run claim decides
    ledger = json.loads((out / "equations.json").read_text())
    assert [row["equation"] for row in ledger] == [str(n) for n in range(1, 62)]
    verdicts = {c["id"]: c["verdict"] for c in claims}
    for n in range(28, 33):        # App. A's proof of Prop. 4, decided by prop4 (expected: confirmed, tests/expected_verdicts.toml)
        assert f"| ({n}) | covered | [prop4](#prop4) | {verdicts['prop4']} |" in report
    assert verdicts["prop4"] == "confirmed"
    assert "| (1) | definition |" in report
    for c in claims:                                   # the table on stdout carries every verdict
        assert any(line.split()[:2] == [c["id"], c["verdict"]] for line in r.stdout.splitlines())
    # re-running with another selection replaces the whole report, leaving no temporary directories
    (out / "stale-marker").write_text("x")
    r2 = _audit(["--out", str(out), "--only", "prop4"], tmp_path)
    assert r2.returncode == 0, r2.stderr
    assert [c["id"] for c in json.loads((out / "claims.json").read_text())] == ["prop4"]
    assert not (out / "stale-marker").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


@pytest.mark.parametrize("args,fragment", [
    (["--only", "prop9"], "--only: unknown claim id 'prop9'"),
    (["--only", ","], "--only: expected comma-separated claim ids"),
    (["--frobnicate"], "--frobnicate: unrecognized argument"),
])
def test_bad_usage_is_one_line_exit_2_and_writes_nothing(tmp_path, args, fragment, capsys):
    out = tmp_path / "o"
    assert main(["audit", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err
    assert not out.exists()


def test_out_that_is_a_file_or_a_foreign_directory_is_refused(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["audit", "--out", str(f), "--only", "prop4"]) == 2
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    assert main(["audit", "--out", str(foreign), "--only", "prop4"]) == 2
    assert (foreign / "thesis.tex").read_text() == "precious"
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(e.startswith("error: --out: ") for e in err)


def test_a_crashing_check_gives_exit_1_and_the_others_are_reported(tmp_path, monkeypatch, capsys,
                                                                   warm_document_cache):
    import dataclasses

    def boom(ctx):
        raise RuntimeError("deliberate")
    claims = tuple(dataclasses.replace(c, check=boom) if c.id == "prop4" else c for c in catalogue.CLAIMS)
    monkeypatch.setattr(catalogue, "CLAIMS", claims)
    monkeypatch.setattr(audit_module, "CLAIMS", claims)
    out = tmp_path / "o"
    assert main(["audit", "--out", str(out), "--only", "prop4,appc-protocol"]) == 1
    recs = {c["id"]: c for c in json.loads((out / "claims.json").read_text())}
    assert recs["prop4"]["verdict"] == "error" and "deliberate" in recs["prop4"]["error"]
    assert recs["appc-protocol"]["verdict"] == "refuted"
    assert "the check of prop4 crashed" in capsys.readouterr().err


def test_an_audit_that_fails_midway_leaves_the_old_report_and_no_temporary_directory(tmp_path, monkeypatch,
                                                                                   warm_document_cache):
    """The derivation worker writes into the audit's temporary directory: it is waited for before that directory is
    removed, so nothing is left behind (and the previous report stays whole)."""
    out = tmp_path / "report"
    assert main(["audit", "--out", str(out), "--only", "prop4"]) == 0
    before = (out / "claims.json").read_text()

    def fails(*args, **kwargs):
        raise RuntimeError("interrupted")
    monkeypatch.setattr(audit_module, "run_audit", fails)
    with pytest.raises(RuntimeError, match="interrupted"):
        main(["audit", "--out", str(out), "--only", "prop4"])
    assert not multiprocessing.active_children()        # the worker finished before its directory was removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    assert (out / "claims.json").read_text() == before


def test_list_and_json(tmp_path, capsys, warm_document_cache):
    assert main(["audit", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == catalogue.ids()
    assert main(["audit", "--out", str(tmp_path / "o"), "--only", "prop4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc[0]["id"] == "prop4"


def test_catalogue_covers_the_ids_the_issue_requires():
    required = {"prop1", "prop2", "prop3", "prop4", "sec3-mie-nonmonotone", "sec4a-fixed-decoder", "eq19", "eq21", "eq22",
                "eq23", "eq24", "eq25", "fig1-elbo-max-at-1", "fig1-reconstruction-decreasing", "fig1-kl-decreasing",
                "fig1-loglik-decreasing", "fig1-mie-finite-optimum", "fig1-tie-finite-optimum", "appc-protocol"}
    ids = set(catalogue.ids())
    assert required <= ids
    assert any(i.startswith("fig2-") for i in ids) and any(i.startswith("fig3-") for i in ids)


def test_protocol_quotes_are_the_papers_words():
    """Each quote of the protocol check occurs in the paper's text (PDF extraction), whitespace aside."""
    import re

    from verify.checks_protocol import INFERENCE_ERROR, SAME_QUANTITY
    paper = ROOT.parent / "shared" / "paper" / "closer-look-at-disentangling-in-beta-vae.txt"
    if not paper.exists():
        pytest.skip("the paper's text is not beside this checkout")

    def norm(t):
        return re.sub(r"\s+", "", t.replace("∼", "~").replace("(", "").replace(")", ""))
    text = norm(paper.read_text())
    quotes = [s for pair in SAME_QUANTITY.values() for s in pair] + list(INFERENCE_ERROR)
    for s in quotes:
        for piece in s.quote.split("..."):
            piece = piece.split("[")[0]
            assert norm(piece) in text, (s.where, piece)
