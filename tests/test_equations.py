"""The equation ledger (verify.equations): every numbered equation (1)-(61) accounted for exactly once.

The ledger's statuses of compared equations are recomputed here from the derivation document with
an order of severity written out independently; the CLI is run in-process (``python -m verify
equations``), its JSON parsed strictly.
"""
import pytest

from cli_run import run_main, strict_json
from verify import catalogue
from verify.equations import TABLE, ledger

pytestmark = pytest.mark.symbolic

# worst first, as the issue states it: erratum > conditional > confirmed-up-to-constant > equivalent-condition > confirmed
WORST_FIRST = ["erratum", "conditional", "confirmed-up-to-constant", "equivalent-condition", "confirmed"]


@pytest.fixture(scope="module")
def document():
    from derivations.document import build_document
    return build_document()


@pytest.fixture(scope="module")
def rows(document):
    return ledger(document)


def test_all_61_equations_are_listed_exactly_once(rows):
    assert [r["equation"] for r in rows] == [str(n) for n in range(1, 62)]
    assert len(TABLE) == 61


def test_each_compared_status_is_the_worst_verdict_of_its_comparisons(rows, document):
    compared = [r for r in rows if r["status"] not in ("definition", "covered")]
    assert len(compared) >= 30
    for r in compared:
        eq = r["equation"]
        verdicts = {c.verdict for c in document.comparisons if c.equation.split(".")[0] == eq}
        assert verdicts, eq
        expected = next(v for v in WORST_FIRST if v in verdicts)
        assert r["status"] == expected, (eq, verdicts)
        assert r["claim"] == f"eq{eq}" and r["test"] == f"tests/test_claims.py::test_claim[eq{eq}]"


def test_every_comparison_of_the_document_belongs_to_a_compared_equation(rows, document):
    compared = {r["equation"] for r in rows if r["status"] not in ("definition", "covered")}
    assert {c.equation.split(".")[0] for c in document.comparisons} <= compared


def test_every_covered_claim_exists_in_the_catalogue(rows):
    ids = set(catalogue.ids())
    covered = [r for r in rows if r["status"] == "covered"]
    assert covered
    for r in covered:
        assert r["claim"] in ids and r["test"] == catalogue.claim(r["claim"]).test, r


def test_every_equation_claim_of_the_catalogue_is_in_the_ledger(rows):
    claimed = {r["claim"] for r in rows}
    equation_claims = {c.id for c in catalogue.CLAIMS if c.kind == "equation"}
    assert equation_claims <= claimed, equation_claims - claimed


def test_every_definition_has_a_reason(rows, document):
    """A definition is something with nothing to compare: no transcription of it in derivations.printed.TEXT, no
    comparison of it in the document, no claim eq<N> in the catalogue (each looked up here, not in the ledger); and
    it carries a reason."""
    from derivations.printed import TEXT
    definitions = [r for r in rows if r["status"] == "definition"]
    assert {"34", "48", "55", "56", "60"} <= {r["equation"] for r in definitions}
    transcribed = {key.split(".")[0] for key in TEXT}
    compared = {c.equation.split(".")[0] for c in document.comparisons}
    claim_ids = set(catalogue.ids())
    assert {"19", "21", "57", "61"} <= transcribed & compared   # the lookups themselves are not empty
    for r in definitions:
        eq = r["equation"]
        assert eq not in transcribed, (eq, "has a transcription in derivations.printed.TEXT")
        assert eq not in compared, (eq, "has a comparison in the derivation document")
        assert f"eq{eq}" not in claim_ids, (eq, "has an equation claim in verify.catalogue")
        assert r["claim"] is None and len(r["reason"].split()) >= 3, r
        assert r["test"] == "tests/test_equations.py::test_every_definition_has_a_reason"


def test_cli_text_lists_every_equation(document):
    status, out, err = run_main(["equations"])
    assert status == 0 and err == ""
    lines = out.strip().splitlines()
    numbers = [line.split()[0] for line in lines[1:-1]]
    assert numbers == [str(n) for n in range(1, 62)]
    assert lines[-1].startswith("61 equations:")


def test_plumbing_cli_json_is_strict_and_carries_provenance(document, rows):
    """Plumbing: the CLI's JSON is compared with ledger(), i.e. the code with itself (strict parse, provenance)."""
    status, out, err = run_main(["equations", "--json"])
    assert status == 0 and err == ""
    doc = strict_json(out)
    assert [d["equation"] for d in doc] == [r["equation"] for r in rows]
    for d, r in zip(doc, rows):
        assert {"equation", "status", "claim", "test", "provenance"} <= set(d)
        assert (d["status"], d["claim"], d["test"], d.get("reason")) == (r["status"], r["claim"], r["test"],
                                                                         r.get("reason"))
        assert d["provenance"]["command"].endswith("equations --json")


@pytest.mark.parametrize("argv", [["equations", "--bogus"], ["equations", "extra"], ["equations", "--json=1"]])
def test_cli_bad_usage_is_one_line_exit_2(argv):
    status, out, err = run_main(argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
