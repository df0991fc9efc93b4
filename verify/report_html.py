"""The audit's ``report.html``: the records of ``report.md`` as one self-contained HTML5 page.

Inline CSS, the figures as ``data:`` URIs (each figure once, at the first claim that shows it; later claims link to
it), no script. The records are :func:`verify.report.records`; the prose that opens the report and the section
"Beyond the paper" are the Markdown of :mod:`verify.report` and :mod:`verify.report_beyond`, rendered here, so the
wording lives in one place. Every text is escaped with :func:`html.escape`.

>>> inline_html("**ELBO*** < [prop4](#prop4) and `a|b`")
'<strong>ELBO*</strong> &lt; <a href="#prop4">prop4</a> and <code>a|b</code>'
"""
from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
from pathlib import Path

from .report import grade_counts, preamble_markdown, records, shorten, used_line
from .report_beyond import beyond_the_paper_markdown

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #bbb;padding:.2rem .5rem;vertical-align:top}
th{background:#eee;text-align:left}code,pre{font:13px/1.35 ui-monospace,monospace}
pre{background:#f5f5f5;padding:.5rem;overflow-x:auto}blockquote{border-left:3px solid #bbb;margin:0;padding-left:1rem}
.verdict{font-weight:bold}.v-confirmed{color:#17612a}.v-qualified{color:#8a5a00}.v-corrected{color:#1d4f91}
.v-refuted{color:#a31515}.v-not-checked{color:#555}.v-error{color:#fff;background:#a31515}
section.claim{border-top:1px solid #ccc;margin-top:1.5rem}.provenance{color:#444;font-size:90%}
figure img{max-width:100%;height:auto}
""".strip()

# the Markdown the shared prose uses, and nothing more: code spans, bold, italics, links to anchors of this page
_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*(?!\*)|(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"
                     r"|\[([^\]]+)\]\(#([\w.-]+)\)")


def _e(text) -> str:
    return html.escape(str(text))


def inline_html(md: str, anchors=None) -> str:
    """One line of the shared Markdown as escaped HTML; a link to an anchor not in ``anchors`` (a claim this run did
    not check) is its text alone."""
    out, pos = [], 0
    for m in _INLINE.finditer(md):
        out.append(_e(md[pos:m.start()]))
        code, strong, em, text, anchor = m.groups()
        if code is not None:
            out.append(f"<code>{_e(code)}</code>")
        elif strong is not None:
            out.append(f"<strong>{inline_html(strong, anchors)}</strong>")
        elif em is not None:
            out.append(f"<em>{inline_html(em, anchors)}</em>")
        elif anchors is not None and anchor not in anchors:
            out.append(inline_html(text, anchors))
        else:
            out.append(f'<a href="#{_e(anchor)}">{inline_html(text, anchors)}</a>')
        pos = m.end()
    return "".join(out) + _e(md[pos:])


def block_html(md: str, anchors=None) -> list[str]:
    """Paragraphs, headings and bullet lists of the shared Markdown (blank-line separated blocks)."""
    out = []
    for block in re.split(r"\n\s*\n", md.strip()):
        lines = block.splitlines()
        if not lines:
            continue
        heading = re.match(r"(#{1,3}) (.*)", lines[0])
        if heading and len(lines) == 1:
            n = len(heading.group(1))
            out.append(f"<h{n}>{inline_html(heading.group(2), anchors)}</h{n}>")
        elif all(line.startswith("- ") for line in lines):
            out.append("<ul>" + "".join(f"<li>{inline_html(line[2:], anchors)}</li>" for line in lines) + "</ul>")
        else:   # Markdown's two trailing spaces are a line break
            out.append("<p>" + "".join(inline_html(line.rstrip(), anchors) + ("<br>" if line.endswith("  ") else " ")
                                       for line in lines).strip() + "</p>")
    return out


def _verdict(v: str) -> str:
    return f'<span class="verdict v-{_e(v)}">{_e(v)}</span>'


def _link(claim_id: str) -> str:
    return f'<a href="#{_e(claim_id)}">{_e(claim_id)}</a>'


def _data_uri(path) -> str:
    mime = mimetypes.guess_type(str(path))[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _figures(r: dict, figures: dict, shown: dict) -> list[str]:
    """The claim's figures: inline the first time a figure is shown, a link to it afterwards."""
    out = []
    for name in r.get("figures", []):
        if name not in figures:
            continue
        anchor = _e(f"figure-{name}")
        if name in shown:
            out.append(f'<p>Figure <a href="#{anchor}">{_e(name)}</a> (shown with claim {_link(shown[name])}).</p>')
            continue
        shown[name] = r["id"]
        out.append(f'<figure id="{anchor}"><img src="{_data_uri(figures[name])}" alt="{_e(name)}">'
                   f"<figcaption>{_e(name)}</figcaption></figure>")
    return out


def _claim(r: dict, figures: dict, shown: dict) -> list[str]:
    out = [f'<section class="claim" id="{_e(r["id"])}">', f"<h3>{_link(r['id'])}</h3>",
           f"<p><em>{_e(r['section'])}</em> — {_verdict(r['verdict'])}, evidence grade <strong>{_e(r['grade'])}"
           "</strong></p>", f"<blockquote>{_e(r['statement'])}</blockquote>", f"<p>{_e(r['evidence'])}</p>"]
    if r.get("grade_basis"):
        out.append(f"<p><strong>Grade basis:</strong> {_e(r['grade_basis'])}</p>")
    for key, label in (("condition", "Condition"), ("erratum", "Erratum"), ("reason", "Reason")):
        if r.get(key):
            out.append(f"<p><strong>{label}:</strong> {_e(r[key])}</p>")
    if r.get("counterexample"):
        out.append("<p><strong>Counterexample:</strong></p><pre>"
                   + _e(json.dumps(r["counterexample"], indent=1, default=str)) + "</pre>")
    if r.get("steps"):
        out.append("<p>Steps:</p><ul>" + "".join(
            f"<li>{'✔' if s['holds'] else '✘'} {_e(s['name'])} [{_e(s['equation'])}; {_e(s['role'])}"
            f"{'; ' + _e(s['grade']) if s.get('grade') else ''}]: {_e(shorten(s['detail'], 600))}</li>"
            for s in r["steps"]) + "</ul>")
    if r.get("protocol"):
        out.append("<p>Protocol run: <code>" + _e(json.dumps(r["protocol"], default=str)[:1500]) + "</code></p>")
    out += _figures(r, figures, shown)
    if r.get("error"):
        out.append(f"<p><strong>The check crashed:</strong> {_e(r['error'])}</p>")
    out += [f'<p class="provenance">{_e(used_line(r))}</p>',
            f'<p class="provenance">Decided by <code>pytest "{_e(r["test"])}"</code> ({r["seconds"]:.2f} s in this '
            "run).</p>", "</section>"]
    return out


def _table(head: tuple[str, ...], rows: list[list[str]], table_id: str = "") -> str:
    """A table of already escaped cells."""
    ident = f' id="{table_id}"' if table_id else ""
    return (f"<table{ident}><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows) + "</tbody></table>")


def _equations(rows: list[dict], recs: list[dict]) -> list[str]:
    """The ledger of equations (1)-(61), beside each equation a run claim decides that claim's verdict."""
    verdict = {r["id"]: r["verdict"] for r in recs}
    cells = [[f"({_e(row['equation'])})", _e(row["status"]),
              _link(row["claim"]) if row["claim"] in verdict else _e(row["claim"] or ""),
              _verdict(verdict[row["claim"]]) if row["claim"] in verdict else "",
              _e(row.get("reason") or row["test"])] for row in rows]
    return ['<h2 id="equations">Equations (1)-(61)</h2>',
            _table(("eq.", "status", "claim", "claim's verdict in this run", "reason / test"), cells)]


def report_html(result, *, figures: dict, derivation_files: list[str], equations: list[dict] | None = None) -> str:
    """The page, from an :class:`verify.audit.AuditResult`; ``figures``: name -> PNG file (read now, inlined)."""
    recs = records(result)
    preamble = preamble_markdown(result)          # the same opening prose as report.md
    body = block_html("\n".join(preamble))
    body += ['<h2 id="verdict-table">Verdicts</h2>', _table(
        ("claim", "section", "verdict", "grade", "decided by"),
        [[_link(r["id"]), _e(r["section"]), _verdict(r["verdict"]), _e(r["grade"]),
          f'<code>pytest "{_e(r["test"])}"</code>'] for r in recs], table_id="verdicts")]
    counts = grade_counts(recs)
    body.append('<p id="grades">Grades: ' + _e(", ".join(f"{n} {g}" for g, n in counts.items() if n)) + ".</p>")
    errata = [r for r in recs if r["verdict"] == "corrected"]
    if errata:
        body += ['<h2 id="errata">Errata</h2>',
                 _table(("claim", "erratum"), [[_link(r["id"]), _e(r.get("erratum", ""))] for r in errata])]
    body += block_html(beyond_the_paper_markdown({r["id"]: r for r in recs}), anchors={r["id"] for r in recs})
    body.append('<h2 id="claims">Claims</h2>')
    shown: dict = {}
    for r in recs:
        body += _claim(r, figures, shown)
    if equations is not None:
        body += _equations(equations, recs)
    body.append('<h2 id="derivation">Derivation</h2>')
    body.append("<p>The SymPy derivation the equation claims rest on, beside this report: "
                + ", ".join(f'<a href="derivation/{_e(f)}">{_e(f)}</a>' for f in derivation_files) + ".</p>"
                if derivation_files else "<p>The derivation document could not be written (see the audit's stderr)."
                                         "</p>")
    title = preamble[0].lstrip("# ")
    return "\n".join(['<!DOCTYPE html>', '<html lang="en">', "<head>", '<meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      f"<title>{_e(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>", *body,
                      "</body>", "</html>", ""])
