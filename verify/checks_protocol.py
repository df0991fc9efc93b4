"""Is the experimental protocol of Section V / Appendix C (and the captions of Figs. 2-3) self-consistent?

Each statement the paper makes about its setup is transcribed verbatim (from the PDF extraction in
``../shared/paper``) with where it appears; the numbers are read out of the quotes by regular
expressions, and the check compares what different places say about the same quantity. A
disagreement is an inconsistency, reported with both quotes; a quantity that no place states is a
gap a reproduction has to fill (the choices the deep runs made are listed with it).

>>> [i.topic for i in inconsistencies()][:2]
['number of latent variables k (Fig. 2 experiment)', 'random initialisations per beta (Fig. 2)']
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .outcome import Step, confirmed, refuted


@dataclass(frozen=True)
class Statement:
    where: str
    quote: str
    pattern: str                 # a regex whose first group is the stated number

    def value(self) -> str:
        m = re.search(self.pattern, self.quote)
        if not m:
            raise ValueError(f"pattern {self.pattern!r} not in the quote from {self.where}")
        return m.group(1)


# Pairs of statements about one quantity of the setup.
SAME_QUANTITY = {
    "number of latent variables k (Fig. 2 experiment)": (
        Statement("Section V", "The dataset is generated according to eq. (17) by mixing 10 MNIST digits, arranged as "
                  "columns of a matrix A, with ground truth sources, s ~ N(0, Ik)", r"mixing (\d+) MNIST digits"),
        Statement("Appendix C", "2 parallel hidden layers with 2 neurons parameters the mean and variance for k = 2 "
                  "latent variables.", r"for k = (\d+) latent")),
    "random initialisations per beta (Fig. 2)": (
        Statement("Fig. 2 caption", "Values for error terms across 100 random initializations of the network.",
                  r"across (\d+) random initializations"),
        Statement("Appendix C", "Experiments were repeated across 300 realizations for each β value.",
                  r"across (\d+) realizations")),
    "random initialisations per beta (Fig. 3)": (
        Statement("Fig. 3 caption", "Values for error terms across 300 random initializations of the network",
                  r"across (\d+) random initializations"),
        Statement("Appendix C", "Experiments were repeated across 300 realizations for each β value.",
                  r"across (\d+) realizations")),
    "observed dimension N of the Fig. 3 experiment": (
        Statement("Fig. 3 caption", "The cartesian coordinate of the digit in a sample from our data, x, is determined "
                  "by eq. (17), with Aij = 2δij + 0.73, s ~ N(0, Ik), η ~ N(0, IN), N = k = 2.", r"N = k = (\d+)"),
        Statement("Fig. 3 caption / Appendix C", "a synthetic dataset, which comprises of a single MNIST digit localized "
                  "at different locations on a blank canvas ... [the decoder] outputs the reconstructed image",
                  r"(canvas)")),
}

# What the inference error is computed from: TIE (eq. 3) needs the ground-truth posterior.
INFERENCE_ERROR = (
    Statement("eq. (3)", "TIE ≡ Ep(x) [DKL(qφ(z|x)||pg-t(z|x))]", r"(pg-t)"),
    Statement("Appendix C", "The Inference Error was calculated numerically using the modelled µz and Σz and "
              "estimating p(x) from mini-batches.", r"estimating (p\(x\))"),
)

# Quantities a reproduction needs that no place states.
UNSTATED = ("batch size", "the beta grid (values of beta)", "how the digits were scaled (pixel range) before mixing",
            "which 10 MNIST images form the columns of A", "canvas size and coordinate-to-pixel map (Fig. 3)",
            "number of Monte-Carlo samples for TIE")


@dataclass(frozen=True)
class Inconsistency:
    topic: str
    first: Statement
    second: Statement
    detail: str


def inconsistencies() -> list[Inconsistency]:
    out = []
    for topic, (a, b) in SAME_QUANTITY.items():
        if topic.startswith("observed dimension"):
            # eq. (17) with N = 2 makes x a 2-vector; the network's input is an image of a digit on a canvas,
            # which is not A s + eta with eta ~ N(0, I_N) for any N the caption states
            n = int(a.value())
            if b.value() == "canvas":
                out.append(Inconsistency(topic, a, b, f"eq. (17) with N = {n} makes x a {n}-vector (the digit's "
                                         "coordinates), but the data the network sees and reconstructs is an image of "
                                         "the digit on a canvas: the observation model is not eq. (17), so eq. (19) is "
                                         "the posterior of the coordinates, not of the image"))
            continue
        va, vb = int(a.value()), int(b.value())
        if va != vb:
            out.append(Inconsistency(topic, a, b, f"{a.where} says {va}, {b.where} says {vb}"))
    gt, ie = INFERENCE_ERROR
    if gt.value() == "pg-t" and not re.search(r"pg-t|ground.truth", ie.quote):
        out.append(Inconsistency("what the inference error is computed from", gt, ie,
                                 "TIE needs the ground-truth posterior p_g-t(z|x) (eq. 19), which is known exactly for "
                                 "data generated by eq. (17); Appendix C estimates p(x) instead, which enters MIE via "
                                 "eq. (16) but not TIE"))
    return out


def check_appc_protocol(ctx):
    found = inconsistencies()
    # every pair of transcribed statements about one quantity is compared: the class is finite and all of it is checked
    pairs = len(SAME_QUANTITY) + 1          # and INFERENCE_ERROR, what TIE is computed from
    every = dict(grade="exhaustive", basis=f"every quantity stated twice in the transcribed quotes ({pairs} pairs of "
                                          "statements, each compared)")
    steps = [Step(i.topic, False, f"{i.detail}. {i.first.where}: \"{i.first.quote}\" / {i.second.where}: "
                  f"\"{i.second.quote}\"", i.first.where, **every) for i in found]
    consistent = [t for t in SAME_QUANTITY if t not in {i.topic for i in found}]
    steps += [Step(t, True, "both places agree", "Appendix C", **every) for t in consistent]
    steps.append(Step("quantities a reproduction needs that the paper does not state", True, "; ".join(UNSTATED),
                      "Appendix C", role="finding", grade="exhaustive",
                      basis=f"the {len(UNSTATED)} quantities a reproduction needs, each looked up by hand in Sec. V, "
                            "Appendix C and the captions of Figs. 2-3 (a reading, not a computation)"))
    try:
        from deep.betavae import protocol as deep_protocol
        choices = getattr(deep_protocol, "DISAGREEMENTS", None)
    except ImportError:                    # the deep extra is not installed: the check stands on the quotes
        choices = None
    data = {"choices_made_by_deep_runs": [dict(c) if isinstance(c, dict) else getattr(c, "__dict__", str(c))
                                          for c in (choices or ())]}
    if found:
        first = found[0]
        return refuted(f"{len(found)} inconsistencies between the places that describe the setup: "
                       + "; ".join(f"{i.topic}: {i.detail}" for i in found), steps,
                       counterexample={"topic": first.topic, first.first.where: first.first.quote,
                                       first.second.where: first.second.quote}, data=data)
    return confirmed("every quantity stated twice is stated consistently", steps, data=data)
