"""Stored evidence: the per-seed results of a converged campaign, with provenance, and reading them back.

A campaign (:mod:`deep.betavae.campaign`) is stored as one gzip-compressed JSON document under ``evidence/`` at the
repository root: the ``train --json`` document of every realisation x beta (its terms, epochs run, convergence, the
linear optimum on its training set, TIE on training and fresh data, and the data averages its gauge alignment was
chosen from), plus ``provenance``: the command that regenerates it, versions, device, seeds, wall time and
:func:`code_hash` of the modules that produce the numbers. :func:`load_evidence` reads it back as the result type
the checks read (``source = "artifact"``), re-aligning every TIE with the current :func:`numerics.gauge.align` from
the stored data averages (:func:`deep.betavae.tie.realigned_tie`), so a better alignment method applies to old runs.

>>> sorted(p.name for p in CODE_FILES)[:3]
['batched.py', 'data.py', 'device.py']
>>> len(code_hash())
16
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
from pathlib import Path

import numpy as np

from numerics.gauge import Alignment, AlignmentProblem

_DEEP = Path(__file__).resolve().parent
#: the modules whose code turns a protocol into a trained network's numbers (training, data, evaluation, the yardstick).
#: Not protocol.py: the protocol is data, stored with the evidence, and a spot check re-runs that record, not a preset
CODE_FILES = tuple(_DEEP / name for name in ("batched.py", "network.py", "data.py", "stopping.py", "evaluate.py",
                                             "tie.py", "yardstick.py", "experiments.py")) + \
    (_DEEP.parent / "streams.py", _DEEP.parent / "device.py")
EVIDENCE_DIR = _DEEP.parent.parent / "evidence"
#: bounds the branch and bound may evaluate per network when evidence is written (and when a spot check re-aligns)
ALIGN_NODE_LIMIT = 200_000
QUANTITIES = ("elbo", "reconstruction", "kl", "objective", "tie", "tie_identity", "reconstruction_se")


def code_of(source: str) -> str:
    """The code of a module without its comments and docstrings (a canonical dump of its syntax tree): what a
    change must touch to change a number.

    >>> code_of("x = 1  # one") == code_of('\"\"\"Doc.\"\"\"\\nx = 1')
    True
    """
    import ast
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def code_hash(sources: dict[str, str] | None = None) -> str:
    """First 16 hex digits of the SHA-256 of the code (:func:`code_of`) of :data:`CODE_FILES`, in order; ``sources``
    (file name -> text) hashes given texts instead, e.g. those of a past commit."""
    h = hashlib.sha256()
    for path in CODE_FILES:
        text = sources[path.name] if sources is not None else path.read_text()
        h.update(path.name.encode() + b"\0" + code_of(text).encode() + b"\0")
    return h.hexdigest()[:16]


def evidence_path(figure: str) -> Path:
    """Where the stored campaign of ``figure`` ('fig2' or 'fig3') lives."""
    return EVIDENCE_DIR / f"{figure}-converged.json.gz"


def write_evidence(result, path, *, command: list[str], node_limit: int = ALIGN_NODE_LIMIT, code: str | None = None,
                   note: str | None = None) -> Path:
    """Store ``result`` (a merged campaign) with its provenance; returns the path.

    Every TIE is first aligned exactly (:func:`numerics.gauge.align`, branch and bound up to k = 10 with ``node_limit``
    bounds; a search that stops there keeps its upper bound and proved lower bound), once, here: at k = 10 that takes
    seconds per network, too long to repeat at every audit. The alignment times go into the provenance. ``code``:
    the code hash to record when the numbers were produced by another checkout than this one (default: this one's).
    """
    from numerics.artifacts import dumps
    doc = {"command": "train", **result.to_json()}
    timing = _align_records(doc, node_limit) if "alignment_problems" in doc["records"][0] else None
    doc = {"provenance": {"command": command, "code_hash": code or code_hash(),
                          "code_files": [str(p.relative_to(_DEEP.parent.parent)) for p in CODE_FILES],
                          "versions": result.versions, "device": result.device, "seeds": list(result.seeds),
                          "wall_time_seconds": result.wall_time, "timings": result.timings, "alignment": timing,
                          **({"note": note} if note else {})},
           "result": doc}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write(dumps(doc, indent=None))
    tmp.replace(path)
    return path


def _align_records(doc: dict, node_limit: int) -> dict:
    """Align every record's TIE (training and fresh data) exactly, in place; returns what it took."""
    import time

    from numerics.gauge import align
    seconds, methods = [], {}
    for rec in doc["records"]:
        for where, tie_key, raw_key, al_key in (("train", "tie", "tie_identity", "alignment"),
                                                ("fresh", "tie_fresh", "tie_identity_fresh", "alignment_fresh")):
            problem = _problem(rec["alignment_problems"][where])
            t0 = time.perf_counter()
            alignment = align(problem, exact_max_k=problem.k, node_limit=node_limit)
            seconds.append(time.perf_counter() - t0)
            methods[alignment.method] = methods.get(alignment.method, 0) + 1
            rec[tie_key] = tie_with(rec[raw_key], problem, alignment)
            rec[al_key] = alignment.to_json()
    s = np.asarray(seconds)
    return {"networks": len(s), "methods": methods, "node_limit": node_limit, "seconds_total": float(s.sum()),
            "seconds_median": float(np.median(s)), "seconds_max": float(s.max()),
            "how": "numerics.gauge.align with exact_max_k = k (enumeration up to 7, branch and bound above), once "
                   "when the evidence was written"}


def read_evidence(path) -> dict:
    """The stored document (provenance and result) as plain data."""
    with gzip.open(Path(path), "rt", encoding="utf-8") as f:
        return json.load(f)


def load_evidence(path, exact_max_k: int | None = None):
    """The stored campaign as a result object with ``source = "artifact"``; ``.provenance`` carries the provenance
    and whether the current code hash equals the stored one."""
    doc = read_evidence(path)
    result = result_from_json(doc["result"], source="artifact", exact_max_k=exact_max_k)
    provenance = {**doc["provenance"], "current_code_hash": code_hash(), "path": str(path)}
    provenance["code_hash_matches"] = provenance["current_code_hash"] == provenance["code_hash"]
    return dataclasses.replace(result, provenance=provenance)


def tie_with(tie_identity: float, problem: AlignmentProblem, alignment: Alignment) -> float:
    """TIE of the encoder relabelled by ``alignment``, from its unaligned TIE and the data averages (the identity of
    :func:`deep.betavae.tie.realigned_tie`, with the cost of the given relabelling recomputed here)."""
    from numerics.gauge import relabelling_cost
    k = problem.k
    costs = relabelling_cost(problem, np.array([np.arange(k), alignment.permutation]),
                             np.array([np.ones(k), alignment.signs]))
    return float(tie_identity + 0.5 * (costs[1] - costs[0]))


def _aligned(rows, problems, raw_key: str, alignment_key: str, exact_max_k):
    """TIE from the unaligned value and an alignment: the stored one (its cost recomputed from the stored data
    averages, so a stored alignment cannot claim a TIE its relabelling does not give), or one solved now when
    ``exact_max_k`` is given or none is stored."""
    from .tie import realigned_tie
    ties, alignments = [], []
    for i, row in enumerate(rows):
        t_row, a_row = [], []
        for j, r in enumerate(row):
            if alignment_key in r and exact_max_k is None:
                al = _alignment(r[alignment_key])
                tie = tie_with(r[raw_key], problems[i][j], al)
            else:
                tie, al = realigned_tie(r[raw_key], problems[i][j], exact_max_k or problems[i][j].k)
            t_row.append(tie)
            a_row.append(al)
        ties.append(t_row)
        alignments.append(tuple(a_row))
    return np.array(ties), tuple(alignments)


def protocol_from_json(doc: dict):
    """The :class:`deep.betavae.protocol.Protocol` a result's ``protocol`` record describes."""
    from .protocol import Protocol
    from .stopping import StoppingRule
    fields = {f.name for f in dataclasses.fields(Protocol)} - {"disagreements"}
    kw = {k: v for k, v in doc.items() if k in fields}
    for name in ("betas", "traversal_betas"):
        if name in kw:
            kw[name] = tuple(float(b) for b in kw[name])
    if kw.get("stopping") is not None:
        kw["stopping"] = StoppingRule(**{k: v for k, v in kw["stopping"].items() if k != "rule"})
    return Protocol(**kw).validated()


def _problem(d: dict) -> AlignmentProblem:
    return AlignmentProblem(**{k: np.asarray(v, dtype=float) for k, v in d.items()})


def _alignment(d: dict) -> Alignment:
    return Alignment(permutation=tuple(d["permutation"]), signs=tuple(d["signs"]), cost=d["cost"], method=d["method"],
                     evaluated=d["evaluated"], how=d["how"], tied_permutations=tuple(map(tuple, d["tied_permutations"])),
                     unique=d["unique"], lower_bound=d.get("lower_bound"))


def result_from_json(doc: dict, source: str = "run", exact_max_k: int | None = None):
    """A Fig2Result/Fig3Result from its ``train --json`` document. With ``exact_max_k`` (or always, for an artifact)
    the TIE values are re-aligned from the stored data averages with the current alignment method."""
    from .experiments import Fig2Result, Fig3Result

    seeds, betas = [int(s) for s in doc["seeds"]], [float(b) for b in doc["betas"]]
    at = {(int(r["seed"]), float(r["beta"])): r for r in doc["records"]}
    rows = [[at[(s, b)] for b in betas] for s in seeds]
    table = lambda f, dtype=float: np.array([[f(r) for r in row] for row in rows], dtype=dtype)   # noqa: E731
    arrays = {q: table(lambda r, q=q: r[q]) for q in QUANTITIES}
    alignment = tuple(tuple(_alignment(r["alignment"]) for r in row) for row in rows)
    has = rows[0][0]
    extra = {}
    if "epochs_run" in has:
        extra.update(epochs_run=table(lambda r: r["epochs_run"], int), converged=table(lambda r: r["converged"], bool),
                     last_improvement=table(lambda r: np.nan if r["last_improvement"] is None else r["last_improvement"]))
    if "linear_optimum" in has:
        extra["linear_optimum"] = {q: table(lambda r, q=q: r["linear_optimum"][q]) for q in has["linear_optimum"]}
    if "tie_fresh" in has:
        extra.update(tie_fresh=table(lambda r: r["tie_fresh"]), tie_identity_fresh=table(lambda r: r["tie_identity_fresh"]))
    if "alignment_problems" in has:
        problems = {w: tuple(tuple(_problem(r["alignment_problems"][w]) for r in row) for row in rows)
                    for w in has["alignment_problems"]}
        extra["problems"] = problems
        if source == "artifact" or exact_max_k is not None:
            arrays["tie"], alignment = _aligned(rows, problems["train"], "tie_identity", "alignment", exact_max_k)
            extra["tie_fresh"], _ = _aligned(rows, problems["fresh"], "tie_identity_fresh", "alignment_fresh",
                                             exact_max_k)
    reference = {k: (np.asarray(v) if isinstance(v, list) else v) for k, v in doc["reference"].items()}
    common = dict(protocol=doc["protocol"], betas=np.asarray(betas), seeds=tuple(seeds),
                  final_loss=table(lambda r: r["final_loss"]), alignment=alignment, reference=reference,
                  images=doc["images"], wall_time=doc["wall_time"], timings=doc["timings"], device=doc["device"],
                  versions=doc["versions"], source=source, **arrays, **extra)
    if doc["figure"] == "fig3":
        t = doc["traversal"]
        return Fig3Result(traversal=np.asarray(t["images"]), traversal_betas=np.asarray(t["betas"]),
                          traversal_values=np.asarray(t["values"]), canvas=t["canvas"], **common)
    return Fig2Result(**common)
