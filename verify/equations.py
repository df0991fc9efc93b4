"""``equations``: the ledger of the paper's numbered equations (1)-(61), each accounted for exactly once.

``python -m verify equations [--json]``. :data:`TABLE` is the single source of truth: every equation is

* ``definition`` -- with the reason it is one (nothing to compare);
* ``covered`` -- by a named claim of the catalogue (a proposition, an analysis claim);
* ``compared`` -- printed vs derived in the derivation document; its status is then COMPUTED from the
  document's comparisons of that equation (``"23"`` also takes 23.1-23.4 and the notation records),
  the worst of them: erratum > conditional > confirmed-up-to-constant > equivalent-condition > confirmed.

The document is read as the audit reads it (:func:`derivations.document.load_or_build`, on-disk cache).
Text output is a table (equation, status, claim, test); ``--json`` a list of objects with ``equation``,
``status``, ``claim``, ``test``, ``reason`` (definitions), ``verdicts`` (compared) and ``provenance``.
Exit status 0; 2 on bad usage (one line on stderr).

>>> len(TABLE), sorted(TABLE, key=int) == [str(n) for n in range(1, 62)]
(61, True)
>>> worst(["confirmed", "equivalent-condition", "erratum"])
'erratum'
"""
from __future__ import annotations

DEFINITION_TEST = "tests/test_equations.py::test_every_definition_has_a_reason"
SEVERITY = ("confirmed", "equivalent-condition", "confirmed-up-to-constant", "conditional", "erratum")


def _d(reason):
    return ("definition", reason)


def _c(claim_id):
    return ("covered", claim_id)


_COMPARED = ("compared", None)   # the claim is eq<N>, the status comes from the document

TABLE: dict[str, tuple[str, str | None]] = {
    "1": _d("defines the generative model p_theta(x, z) as decoder times prior"),
    "2": _d("defines MIE as the data-averaged KL from q_phi(z|x) to the model posterior"),
    "3": _d("defines TIE as the data-averaged KL from q_phi(z|x) to the ground-truth posterior"),
    "4": _c("eq4"),
    "5": _d("defines the ELBO"),
    "6": _d("defines the beta-VAE objective L(theta, phi; beta)"),
    "7": _d("defines the optimal parameters theta*, phi* by the first-order conditions"),
    "8": _d("names L*(beta), the objective at the optimum"),
    "9": _d("names ELBO*(beta), the ELBO at the optimum"),
    "10": _c("prop1"), "11": _c("prop1"),
    "12": _c("prop2"), "13": _c("prop2"),
    "14": _c("prop3"), "15": _c("prop3"),
    "16": _c("sec3-mie-nonmonotone"),
    "17": _d("defines the data-generating process x = A s + eta (s ~ N(0, I_k), eta ~ N(0, I_N) stated beside it)"),
    "18": _c("sec4b-decoder-capable"),
    "19": _COMPARED,
    "20": _d("defines the encoder: the mean and the diagonal covariance of q_phi(z|x)"),
    **{str(n): _COMPARED for n in range(21, 28)},
    **{str(n): _c("prop4") for n in range(28, 33)},
    "33": _d("defines the data-averaged objective as eq. (6) averaged over p(x)"),
    "34": _d("defines the generating functional Z[J] (its n is the dimension of z); its derivative is compared as "
             "eq. (35), its value as eq. (36)"),
    **{str(n): _COMPARED for n in range(35, 48)},
    "48": _d("names the Gaussian form N(mu_s|x, Sigma_s|x) of the ground-truth posterior; its parameters are eq. (49)"),
    **{str(n): _COMPARED for n in range(49, 55)},
    "55": _d("defines the evidence p_theta(x) as the marginal of p_theta(x|z) p(z)"),
    "56": _d("substitutes the model's densities (decoder N(Dz, I_N) at b_D = 0, prior N(0, I_k)) into eq. (55); "
             "the value of the integral is compared as eq. (57)"),
    "57": _COMPARED, "58": _COMPARED, "59": _COMPARED,
    "60": _d("names F and E, the mean coefficient and covariance of the model posterior (values compared as eq. 26)"),
    "61": _COMPARED,
}


def worst(verdicts) -> str:
    """The most severe comparison verdict (see the module docstring for the order)."""
    return max(verdicts, key=SEVERITY.index)


def comparisons_of(doc, equation: str):
    """The document's records of ``equation``; ``"23"`` also gives 23.1-23.4 and the notation records."""
    return [c for c in doc.comparisons if c.equation == equation or c.equation.startswith(equation + ".")]


def ledger(doc) -> list[dict]:
    """One entry per equation 1..61; a compared equation without a comparison in ``doc`` raises LookupError."""
    from .catalogue import claim
    rows = []
    for number in sorted(TABLE, key=int):
        kind, value = TABLE[number]
        if kind == "definition":
            rows.append({"equation": number, "status": "definition", "claim": None, "test": DEFINITION_TEST,
                         "reason": value})
            continue
        claim_id = value if kind == "covered" else f"eq{number}"
        row = {"equation": number, "status": "covered", "claim": claim_id, "test": claim(claim_id).test}
        if kind == "compared":
            comps = comparisons_of(doc, number)
            if not comps:
                raise LookupError(f"eq. ({number}) is listed as compared but the document has no comparison of it")
            row["status"] = worst(c.verdict for c in comps)
            row["verdicts"] = [{"equation": c.equation, "verdict": c.verdict, "kind": c.kind} for c in comps]
        rows.append(row)
    return rows


def format_table(rows) -> str:
    width = max(len(r["status"]) for r in rows)
    claim_width = max(len(r["claim"] or "-") for r in rows)
    lines = [f"{'eq.':>4}  {'status':<{width}}  {'claim':<{claim_width}}  test"]
    for r in rows:
        lines.append(f"{r['equation']:>4}  {r['status']:<{width}}  {r['claim'] or '-':<{claim_width}}  {r['test']}"
                     + (f"  ({r['reason']})" if r.get("reason") else ""))
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    lines.append(f"{len(rows)} equations: " + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())))
    return "\n".join(lines)
