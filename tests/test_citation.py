"""CITATION.cff: valid under cffconvert (whose validator is shown to reject a broken copy), the toolkit's title and
version as pyproject.toml states them, and the audited paper's title, authors and arXiv id as the citation line of
the paper's text (../shared/paper/README.md) gives them."""
import os
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAPER_README = ROOT.parent / "shared" / "paper" / "README.md"


@pytest.fixture(scope="module")
def cff():
    """CITATION.cff as cffconvert reads it (a dict), validated."""
    try:
        from cffconvert import Citation
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("cffconvert is missing: under CI CITATION.cff must be validated (pip install cffconvert)")
        pytest.skip("cffconvert is not installed")
    citation = Citation((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    citation.validate()                 # raises on a file the schema refuses
    return citation.cffobj


def test_the_validator_can_refuse(cff):
    from cffconvert import Citation
    from jsonschema.exceptions import ValidationError
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    for broken in (text.replace("\ntitle: ", "\ntitel: "), text.replace("type: conference-paper", "type: talkshow")):
        assert broken != text
        with pytest.raises(ValidationError):
            Citation(broken).validate()


def test_title_and_version_are_pyprojects(cff):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert (cff["title"], str(cff["version"])) == (project["name"], project["version"])


def test_the_paper_is_cited_as_its_text_names_it(cff):
    if not PAPER_README.exists():
        pytest.skip("the paper's text is not beside this checkout")
    # e.g.  H. Sikka, W. Zhong, J. Yin, C. Pehlevan, "A Closer Look at Disentangling in β-VAE",
    line = re.search(r'^(.+?), "(.+?)",', PAPER_README.read_text(encoding="utf-8"), re.M)
    names, title = line.group(1).split(", "), line.group(2)
    authors = [tuple(n.rsplit(" ", 1)) for n in names]
    assert len(authors) == 4
    papers = [r for r in cff["references"] if r["title"] == title]
    assert len(papers) == 1, "the references hold the paper under its printed title"
    paper = papers[0]
    assert [(a["given-names"], a["family-names"]) for a in paper["authors"]] == authors
    arxiv = re.search(r"arXiv:(\d{4}\.\d{5})", PAPER_README.read_text(encoding="utf-8")).group(1)
    assert {"type": "other", "value": f"arXiv:{arxiv}"}.items() <= next(
        i for i in paper["identifiers"] if i["type"] == "other").items()
    assert paper["url"] == f"https://arxiv.org/abs/{arxiv}"
    assert "doi" not in paper and all(i["type"] != "doi" for i in paper["identifiers"])   # the text gives none
    assert paper["year"] == 2019 and "Asilomar" in paper["conference"]["name"]
