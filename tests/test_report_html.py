"""report.html: escaping, anchors, verdicts, inline figures, and the page as a real browser (Chromium) renders it.

The expected values are typed from the synthetic records below (never read back from report_html's output); the
figures are checked against the bytes of the files they came from, and decoded by a PNG reader written here (a
second route besides Pillow); the page's structure is read by the stdlib's html.parser and by Chromium's own parser.
"""
import base64
import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from verify.audit import AuditResult, ClaimResult
from verify.catalogue import Claim
from verify.outcome import Step, confirmed, corrected, not_checked, qualified, refuted
from verify.report_html import report_html

NASTY = 'x < 1 & y > "2" \'3\' <script>alert(1)</script>'
VERDICTS = {"a-ok": "confirmed", "b-refuted": "refuted", "c-corrected": "corrected", "d-qualified": "qualified",
            "e-skipped": "not-checked", "f-crashed": "error"}
PIXELS = [[(255, 0, 0), (0, 255, 0), (0, 0, 255), (9, 9, 9)],
          [(1, 2, 3), (250, 251, 252), (0, 0, 0), (255, 255, 255)],
          [(7, 70, 170), (8, 80, 180), (9, 90, 190), (10, 100, 200)]]


def _png(pixels) -> bytes:
    """A truecolour PNG built by hand (filter 0 on every row): the figure's bytes are known without matplotlib."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    h, w = len(pixels), len(pixels[0])
    raw = b"".join(b"\0" + bytes(v for px in row for v in px) for row in pixels)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _read_png(data: bytes):
    """(width, height, rows of the unfiltered scanlines) of an 8-bit RGB PNG whose rows use filter 0; CRCs checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body), kind
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + n
    w, h = struct.unpack(">II", chunks[b"IHDR"][:8])
    raw = zlib.decompress(chunks[b"IDAT"])
    rows = [raw[i * (3 * w + 1):(i + 1) * (3 * w + 1)] for i in range(h)]
    return w, h, rows


def _synthetic(tmp_path):
    """Six claims, one per verdict; two share a figure; the texts hold every character HTML escapes."""
    fig = tmp_path / "tiny.png"
    fig.write_bytes(_png(PIXELS))
    step_p = Step("proved thing", True, "detail <b>", "eq. 1", grade="proved", basis="sec/key")
    step_s = Step("sampled thing", False, "fails & more", "eq. 2", grade="sampled", basis="25 problems")
    outcomes = {
        "a-ok": confirmed(f"holds: {NASTY}", [step_p], figures=("tiny.png",)),
        "b-refuted": refuted("fails", [step_s], counterexample={"A": "<matrix>"}, figures=("tiny.png",)),
        "c-corrected": corrected("holds once fixed", [], erratum="eq. (9): a < b & c"),
        "d-qualified": qualified("holds if", [], condition="A^T A <diagonal>"),
        "e-skipped": not_checked("no TeX & no time"),
        "f-crashed": None}
    results = []
    for i, (cid, o) in enumerate(outcomes.items()):
        claim = Claim(cid, f"Sec. {i} <{cid}>", f"statement of {cid}: {NASTY}", lambda ctx: None, "analysis")
        used = {"seeds": {"hunt": 7}, "precision": {"closed_form": "float64"}} if cid == "a-ok" else \
            {"seeds": {}, "precision": {}}
        results.append(ClaimResult(claim, o, "RuntimeError: boom <x>" if o is None else None, 0.25, used,
                                   ("audit", "--only", "<ids>")))
    result = AuditResult(tuple(results), 1.5, {"only": list(outcomes), "deep": False}, {"betavae-audit": "0.1.0"},
                         ("audit", "--only", "<ids>"))
    return result, {"tiny.png": str(fig)}


class Page(HTMLParser):
    """What the tests read of a page: every element's attributes, the verdict table's rows, and each element's text
    by id."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.ids, self.hrefs, self.srcs, self.rows, self.row_links = [], [], [], [], [], []
        self._table = None         # depth inside table#verdicts' <tbody>, or None
        self._cell = None
        self._stack, self.text_by_id = [], {}
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
            if self._table is not None and self.row_links:
                self.row_links[-1].append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])
        if tag == "table" and a.get("id") == "verdicts":
            self._table = 0
        if self._table is not None and tag == "tr":
            self._table += 1
            self.rows.append([])
            self.row_links.append([])
        if self._table is not None and tag in ("td", "th"):
            self._cell = []
        if tag not in ("br", "img", "meta", "link"):
            self._stack.append(a.get("id"))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        if tag == "table":
            self._table = None
        if tag not in ("br", "img", "meta", "link") and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        for ident in self._stack:
            if ident:
                self.text_by_id[ident] = self.text_by_id.get(ident, "") + data


def _check_structure(page: Page, ids: list[str], verdicts: dict):
    """The verdict table has a header and one row per claim in order, with its verdict; every claim has one anchor,
    and every link of the page stays on it (an anchor it holds, or a data: URI)."""
    assert page.rows[0] == ["claim", "section", "verdict", "grade", "decided by"]
    assert [row[0] for row in page.rows[1:]] == ids
    assert [row[2] for row in page.rows[1:]] == [verdicts[i] for i in ids]
    assert page.row_links[1:] == [[f"#{cid}"] for cid in ids]      # each row links to its claim's anchor
    for cid in ids:
        assert page.ids.count(cid) == 1, cid
    assert len(page.ids) == len(set(page.ids))
    for href in page.hrefs:
        assert href[1:] in page.ids if href.startswith("#") else href.startswith("derivation/"), href
    assert page.srcs and all(s.startswith("data:image/png;base64,") for s in page.srcs)
    assert "script" not in page.tags and "link" not in page.tags


def test_synthetic_report_escapes_anchors_every_verdict_and_inlines_the_figure_once(tmp_path):
    result, figures = _synthetic(tmp_path)
    text = report_html(result, figures=figures, derivation_files=["derivations.tex"])
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    page = Page(text)
    _check_structure(page, list(VERDICTS), VERDICTS)
    # the parser's unescaped text gives back every original string
    assert f"statement of a-ok: {NASTY}" in page.text_by_id["a-ok"]
    assert "Sec. 1 <b-refuted>" in page.text_by_id["b-refuted"]
    assert '"A": "<matrix>"' in page.text_by_id["b-refuted"]
    assert "RuntimeError: boom <x>" in page.text_by_id["f-crashed"]
    assert "A^T A <diagonal>" in page.text_by_id["d-qualified"] and "no TeX & no time" in page.text_by_id["e-skipped"]
    # grades by hand: a-ok proved, b-refuted sampled, the other four have no graded step
    assert page.text_by_id["grades"] == "Grades: 1 proved, 1 sampled, 4 ungraded."
    assert re.search(r"<td><a href=\"#c-corrected\">c-corrected</a></td><td>eq\. \(9\): a &lt; b &amp; c</td>", text)
    # provenance: the seeds and precision the check noted, and the command
    assert "Seeds: hunt = 7. Precision: closed_form = float64." in page.text_by_id["a-ok"]
    assert "Seeds: none used. Precision: no numerical computation." in page.text_by_id["c-corrected"]
    assert "betavae-audit audit --only '<ids>'" in text.replace("&lt;", "<").replace("&gt;", ">").replace("&#x27;", "'")
    # the shared figure: inline once (its bytes exactly, pixels as written), linked from the second claim
    assert len(page.srcs) == 1 and page.ids.count("figure-tiny.png") == 1
    data = base64.b64decode(page.srcs[0].split(",", 1)[1], validate=True)
    assert data == Path(figures["tiny.png"]).read_bytes()
    w, h, rows = _read_png(data)
    assert (w, h) == (4, 3)
    assert [row[0] for row in rows] == [0, 0, 0]
    assert [[tuple(row[1 + 3 * j:4 + 3 * j]) for j in range(w)] for row in rows] == PIXELS
    assert "#figure-tiny.png" in page.hrefs


def test_markdown_of_the_shared_prose():
    from verify.report_html import block_html, inline_html
    assert inline_html("a *b* c") == "a <em>b</em> c"
    assert inline_html("KL* and ELBO* stay") == "KL* and ELBO* stay"       # a star after a word opens nothing
    assert inline_html("[x](#gone)", anchors={"here"}) == "x" and inline_html("[x](#here)", {"here"}) == '<a href="#here">x</a>'
    assert block_html("# T\n\n- a\n- b\n\nl1  \nl2") == ["<h1>T</h1>", "<ul><li>a</li><li>b</li></ul>", "<p>l1<br>l2</p>"]


# --- the browser -------------------------------------------------------------------------------------------------

def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: under CI the report.html browser test must run "
                        "(apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return exe


def _browser(html_file: Path, tmp_path: Path, *args) -> subprocess.CompletedProcess:
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.iterdir()))}"
    r = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                        *args, html_file.resolve().as_uri()], capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def _rendered(html_file: Path, tmp_path: Path, ids, verdicts):
    """Chromium's DOM of the page, checked as the source was; and a screenshot of the stated size that is not blank."""
    page = Page(_browser(html_file, tmp_path, "--dump-dom").stdout)
    _check_structure(page, ids, verdicts)
    shot = tmp_path / "shot.png"
    _browser(html_file, tmp_path, "--window-size=900,700", "--hide-scrollbars", f"--screenshot={shot}")
    from PIL import Image
    with Image.open(shot) as im:
        assert im.size == (900, 700)
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 20                      # text, table rules and the verdict colours, not one flat fill
    assert max(n for n, _ in colours) < 0.98 * 900 * 700
    return page


def test_chromium_renders_the_verdict_table(tmp_path):
    result, figures = _synthetic(tmp_path)
    page_file = tmp_path / "report.html"
    page_file.write_text(report_html(result, figures=figures, derivation_files=[]), encoding="utf-8")
    _rendered(page_file, tmp_path, list(VERDICTS), VERDICTS)


class _NoDerivation:
    """Stands in for verify.derivation.DerivationJob: a cold SymPy build takes ~50 s here, and the claims run below
    read no document (the audit then writes no derivation/ and no equations.json, with a warning)."""

    def __init__(self, out, command):
        pass

    def wait(self):
        return None

    def close(self):
        pass

    def warnings(self):
        return []

    def document(self):
        raise RuntimeError("no derivation document in this test")


FAST = "prop4,abstract-finite-optimal-beta,appc-protocol"     # no document needed; the second draws a figure


def test_audit_writes_report_html_that_chromium_renders(tmp_path, monkeypatch, capsys):
    import json

    import verify.derivation
    from verify.cli import main
    monkeypatch.setattr(verify.derivation, "DerivationJob", _NoDerivation)
    out = tmp_path / "audit"
    umask = os.umask(0o027)
    try:
        assert main(["audit", "--out", str(out), "--only", FAST]) == 0
    finally:
        os.umask(umask)
    wrote = [line for line in capsys.readouterr().out.splitlines() if line.startswith("wrote ")]
    assert wrote and f"{out / 'report.html'}, " in wrote[0]
    # every file and directory of the report follows the umask the audit ran under
    for p in [out, *out.rglob("*")]:
        assert p.stat().st_mode & 0o777 == (0o750 if p.is_dir() else 0o640), p
    claims = json.loads((out / "claims.json").read_text())
    ids = [c["id"] for c in claims]
    assert sorted(ids) == sorted(FAST.split(","))
    page = _rendered(out / "report.html", tmp_path, ids, {c["id"]: c["verdict"] for c in claims})
    figure = out / "figures" / "phase_diagram.png"
    assert [base64.b64decode(s.split(",", 1)[1]) for s in page.srcs] == [figure.read_bytes()]
    from PIL import Image
    with Image.open(figure) as im:
        assert im.format == "PNG" and min(im.size) > 100
