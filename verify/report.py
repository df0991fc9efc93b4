"""The audit's outputs: the verdict table (stdout), ``claims.json`` and ``report.md``.

Everything here is formatting of an :class:`verify.audit.AuditResult` (the record of a claim included);
no verdict is decided here.

>>> format_table([{"id": "prop4", "verdict": "confirmed", "evidence": "holds"}]).splitlines()[0].split()
['claim', 'verdict', 'grade', 'evidence']
"""
from __future__ import annotations

import json
import shlex

from numerics.artifacts import dumps, jsonable, record

from .outcome import GRADES
from .report_beyond import beyond_the_paper_markdown

VERDICT_ORDER = ("confirmed", "qualified", "corrected", "refuted", "not-checked", "error")


def claim_record(r) -> dict:
    """One :class:`verify.audit.ClaimResult` as its claims.json record."""
    c, o = r.claim, r.outcome
    rec = {"id": c.id, "section": c.section, "statement": c.statement, "verdict": r.verdict,
           "evidence": o.evidence if o else f"the check crashed: {r.error}", "test": c.test, "kind": c.kind,
           "seconds": round(r.seconds, 3),
           "provenance": record(command=list(r.command), seeds=r.used["seeds"], precision=r.used["precision"],
                                wall_time_seconds=r.seconds)}
    rec["grade"] = (o.grade or "ungraded") if o else "ungraded"
    if o and o.grade:
        rec["grade_basis"] = o.grade_basis
    if o:
        rec["steps"] = [jsonable(s) for s in o.steps]          # verify.outcome.Step: its fields
        for key in ("counterexample", "erratum", "condition", "reason", "protocol", "experiment"):
            value = getattr(o, key)
            if value:
                rec[key] = value
        if o.figures:
            rec["figures"] = list(o.figures)
        if o.data:
            rec["data"] = o.data
    else:
        rec["error"] = r.error
    return rec


def records(result) -> list[dict]:
    return [claim_record(r) for r in result.results]


def claims_json(result) -> str:
    """The list of claim records (each with its provenance), as strict JSON (inf as "inf", never NaN)."""
    return dumps(records(result)) + "\n"


def run_record(result) -> dict:
    """run.json: the audit's options and counts, and one provenance record for the whole run
    (seeds and precision: the union of what the checks noted)."""
    seeds, precision = {}, {}
    for r in result.results:
        seeds.update(r.used["seeds"])
        precision.update(r.used["precision"])
    return {"options": result.options, "counts": result.counts(), "versions": result.versions,
            "wall_time_seconds": round(result.wall_time, 2),
            "provenance": record(command=list(result.command), seeds=dict(sorted(seeds.items())),
                                 precision=dict(sorted(precision.items())), wall_time_seconds=result.wall_time)}


def used_line(r: dict) -> str:
    """A claim's seeds and precision, for the report."""
    p = r.get("provenance") or {}

    def fmt(d):
        return "; ".join(f"{k} = {json.dumps(v, default=str) if not isinstance(v, str) else v}" for k, v in d.items())
    return (f"Seeds: {fmt(p.get('seeds', {})) or 'none used'}. "
            f"Precision: {fmt(p.get('precision', {})) or 'no numerical computation'}.")


def shorten(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(recs: list[dict], width: int = 78) -> str:
    idw = max([len("claim")] + [len(r["id"]) for r in recs])
    vw = max(len(v) for v in VERDICT_ORDER)
    gw = max(len(g) for g in (*GRADES, "ungraded"))
    lines = [f"{'claim':<{idw}}  {'verdict':<{vw}}  {'grade':<{gw}}  evidence"]
    for r in recs:
        lines.append(f"{r['id']:<{idw}}  {r['verdict']:<{vw}}  {r.get('grade', 'ungraded'):<{gw}}  "
                     f"{shorten(r['evidence'], width)}")
    return "\n".join(lines)


def summary_line(result) -> str:
    counts = result.counts()
    parts = [f"{counts[v]} {v}" for v in VERDICT_ORDER if counts.get(v)]
    return f"{len(result.results)} claims: " + ", ".join(parts) + f" ({result.wall_time:.1f} s)"


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def equations_markdown(rows, recs) -> list[str]:
    """The ledger of equations (1)-(61) with, for each equation a claim decides, that claim's verdict in this run."""
    verdict = {r["id"]: r["verdict"] for r in recs}
    out = ["## Equations (1)-(61)", "",
           "Each numbered equation of the paper once (`python -m verify equations`): a *definition* has nothing to "
           "check; a compared equation shows the derivation's verdict (the worst of its lines and notation records); "
           "a *covered* equation is decided by the claim named.", "",
           "| eq. | status | claim | claim's verdict in this run | reason / test |", "|---|---|---|---|---|"]
    for row in rows:
        cid = row["claim"]
        shown = f"[{cid}](#{cid})" if cid in verdict else (cid or "")
        out.append(f"| ({row['equation']}) | {row['status']} | {shown} | {verdict.get(cid, '') if cid else ''} | "
                   f"{_md_escape(row.get('reason') or row['test'])} |")
    return out + [""]


def preamble_markdown(result) -> list[str]:
    """The report's title, summary, verdict and grade vocabulary, command and versions (report.md and report.html)."""
    opts, vers = result.options, result.versions
    return ["# Audit of “A Closer Look at Disentangling in β-VAE” (Sikka, Zhong, Yin, Pehlevan, Asilomar 2019)", "",
           f"{summary_line(result)}.", "",
           "Every verdict below is computed by the check named with it; the same check runs as a pytest test "
           "(`pytest -m claims` for all of them, or the test named per claim). Verdicts: **confirmed**; **refuted** "
           "(with a counterexample); **corrected** (holds once the named erratum is fixed); **qualified** (holds "
           "only under the stated condition); **not-checked** (with the reason); **error** (the check crashed).", "",
           "Command: `" + shlex.join(["betavae-audit", *result.command]) + "`.  ",
           "Run: " + ", ".join(f"{k} = {v}" for k, v in opts.items()) + ".  ",
           "Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".", "",
           "Evidence grades: **proved** (for every problem of the claim's class, symbolically or by a decision "
           "procedure's certificate; the proof is named in the derivation document by section/step key); "
           "**exhaustive** (every case of a finite class); **sampled** (random problems, grids or the paper's own "
           "problem; how many is said); **measured** (trained networks). A verdict's grade is the weakest grade of the "
           "steps that decide it.", ""]


def grade_counts(recs: list[dict]) -> dict[str, int]:
    """How many claims have each evidence grade (every grade, zeros included, and "ungraded")."""
    return {g: sum(r["grade"] == g for r in recs) for g in (*GRADES, "ungraded")}


def report_markdown(result, *, figures: dict, derivation_files: list[str], equations: list[dict] | None = None) -> str:
    recs = records(result)
    out = preamble_markdown(result) + [
        "## Verdicts", "", "| claim | section | verdict | grade | decided by |", "|---|---|---|---|---|"]
    for r in recs:
        out.append(f"| [{r['id']}](#{r['id']}) | {_md_escape(r['section'])} | **{r['verdict']}** | {r['grade']} | "
                   f"`pytest \"{r['test']}\"` |")
    counts = grade_counts(recs)
    out += ["", "Grades: " + ", ".join(f"{n} {g}" for g, n in counts.items() if n) + "."]
    errata = [r for r in recs if r["verdict"] == "corrected"]
    if errata:
        out += ["", "## Errata", "", "| claim | erratum |", "|---|---|"]
        out += [f"| {r['id']} | {_md_escape(r.get('erratum', ''))} |" for r in errata]
    out += [""] + beyond_the_paper_markdown({r["id"]: r for r in recs}).splitlines()
    out += ["", "## Claims", ""]
    for r in recs:
        out += [f"### {r['id']}", "", f"*{r['section']}* — **{r['verdict']}**, evidence grade **{r['grade']}**", "",
                f"> {r['statement']}", "", r["evidence"], ""]
        if r.get("grade_basis"):
            out += [f"**Grade basis:** {_md_escape(r['grade_basis'])}", ""]
        for key, label in (("condition", "Condition"), ("erratum", "Erratum"), ("reason", "Reason")):
            if r.get(key):
                out += [f"**{label}:** {r[key]}", ""]
        if r.get("counterexample"):
            out += ["**Counterexample:**", "", "```", json.dumps(r["counterexample"], indent=1, default=str), "```", ""]
        if r.get("steps"):
            out.append("Steps:")
            out += [f"- {'✔' if s['holds'] else '✘'} {s['name']} [{s['equation']}; {s['role']}"
                    f"{'; ' + s['grade'] if s.get('grade') else ''}]: "
                    f"{shorten(s['detail'], 600)}" for s in r["steps"]]
            out.append("")
        if r.get("protocol"):
            out += ["Protocol run: `" + json.dumps(r["protocol"], default=str)[:1500] + "`", ""]
        for fig in r.get("figures", []):
            if fig in figures:
                out += [f"![{fig}](figures/{fig})", ""]
        if r.get("error"):
            out += [f"**The check crashed:** {r['error']}", ""]
        out += [used_line(r), "", f"Decided by `pytest \"{r['test']}\"` ({r['seconds']:.2f} s in this run).", ""]
    if equations is not None:
        out += equations_markdown(equations, recs)
    out += ["## Derivation", ""]
    if derivation_files:
        out += ["The SymPy derivation the equation claims rest on: "
                + ", ".join(f"[{f}](derivation/{f})" for f in derivation_files) + ".", ""]
    else:
        out += ["The derivation document could not be written (see the audit's stderr).", ""]
    return "\n".join(out)
