"""Claim steps that rest on proofs in the derivation document (grade ``proved``).

:data:`PROOFS` names, per proved fact, the sections (or section/step-key prefixes) of the document that prove it, in
one place. :func:`proof_steps` turns one of them into a claim step graded ``proved`` whose basis lists every
``section/step`` key it rests on, plus a support step that those steps exist and hold (a broken proof is an error of
the toolkit, not a verdict).

>>> PROOFS["eq21-slope"]
(('prop1-proof', 'prop1.eq21'),)
"""
from __future__ import annotations

from .outcome import Step

# fact -> the document's (section, step-key prefix) pairs proving it; prefix "" takes the whole section. A unit term's
# steps in unit-sums ("units.<term>...") are its decomposition, its branch forms and its continuity at the join.
def _units(*terms):
    return tuple(("unit-sums", f"units.{t}") for t in terms)


PROOFS: dict[str, tuple[tuple[str, str], ...]] = {
    "prop1": (*_units("objective", "kl"), ("prop1-proof", "prop1.active"), ("prop1-proof", "prop1.collapsed")),
    "eq21-slope": (("prop1-proof", "prop1.eq21"),),
    "kl-recon-nonincreasing": (*_units("kl", "reconstruction"), ("prop2-proof", "")),
    "elbo-max-at-one": (*_units("elbo", "kl"), ("lemma-g", ""), ("prop3-proof", "")),
    "loglik-max-at-one": (*_units("log_likelihood"), ("lemma-g", ""), ("prop3-proof", "prop3.below_one_active"),
                          ("loglik-proof", "")),
    "mie-zero-set": (*_units("mie"), ("lemma-g", ""), ("mie-proof", "")),
    "fixed-decoder": (("lemma-g", ""), ("closed", "closed.W_mu"), ("closed", "closed.W_sigma"),
                      ("closed", "closed.b_sigma"), ("sec4a-proof", "")),
}


def proof_keys(document, fact: str) -> tuple[list[str], bool]:
    """The ``section/step`` keys proving ``fact``, and whether all of them exist and hold."""
    sections = {s.key: s for s in document.sections}
    keys, ok = [], True
    for section_key, prefix in PROOFS[fact]:
        section = sections.get(section_key)
        steps = [s for s in section.steps if s.key.startswith(prefix)] if section is not None else []
        if not steps:
            keys.append(f"{section_key}/{prefix or '*'}")
            ok = False
        keys += [f"{section_key}/{s.key}" for s in steps]
        ok = ok and all(s.holds for s in steps)
    return keys, ok


def proof_steps(ctx, fact: str, name: str, equation: str, *, role: str = "claim", establishes: bool = True,
                detail: str = "") -> list[Step]:
    """A ``proved`` step for ``fact`` and the support step that its proof holds.

    ``establishes=False``: the proof establishes the *negation* of the step's statement (a claim the proof refutes),
    so the step holds exactly when the proof does not."""
    keys, ok = proof_keys(ctx.document(), fact)
    basis = ", ".join(keys)
    sections = sorted({k.split("/")[0] for k in keys})
    said = detail or f"proved in the derivation document ({len(keys)} steps, sections {', '.join(sections)})"
    return [Step(name, ok if establishes else not ok, said, equation, role, grade="proved", basis=basis),
            Step(f"the proof of '{fact}' holds: its {len(keys)} steps exist in the derivation document and hold", ok,
                 "all hold" if ok else "a step is missing or fails", equation, "support", grade="proved", basis=basis)]
