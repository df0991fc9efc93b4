"""``convert-beta``: the paper's beta and decoder variance behind a beta-VAE library's beta.

Each library's loss, read from its source (numerics.library_conventions, cited file and lines), is per example
a ||x - x_hat||^2 + b KL; the paper's beta (at sigma_d^2 = 1) is b / (2a), and so is the decoder variance at which the
library trains the plain ELBO (beta = 1): numerics.library_beta. Text output: one line per quantity, then the source.

>>> parse_positive("--beta", "4")
4.0
>>> parse_positive("--beta", "-1")
Traceback (most recent call last):
verify.commands.usage.UsageError: --beta: must be a finite number > 0, got -1.0
"""
from __future__ import annotations

import argparse
import math
import sys

from ..output import command_json
from .usage import UsageError, bounded_int

SIZE_RANGE = (1, 2**53)        # D, M, S: integers float64 holds exactly
FLAGS = {"input-dim": "--input-dim", "batch-size": "--batch-size", "dataset-size": "--dataset-size",
         "kld-weight": "--kld-weight", "beta": "--beta", "reconstruction": "--reconstruction"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--library", required=True, metavar="NAME",
                        help="pythae, 1konny (1Konny/Beta-VAE), antixk (AntixK/PyTorch-VAE) or disentanglement_lib "
                             "(google-research/disentanglement_lib)")
    parser.add_argument("--reconstruction", default=None, metavar="OPTION",
                        help="the library's loss option (default: its current Gaussian one); pythae: mse, "
                             "mse-unhalved, bce; 1konny: gaussian, bernoulli; antixk: mse, mse-mn, mse-kld-weight; "
                             "disentanglement_lib: l2, bernoulli")
    parser.add_argument("--beta", required=True, metavar="B", help="the library's beta (> 0)")
    parser.add_argument("--input-dim", default=None, metavar="D", help="input values per example (C x H x W)")
    parser.add_argument("--batch-size", default=None, metavar="M", help="training batch size")
    parser.add_argument("--dataset-size", default=None, metavar="S", help="training set size")
    parser.add_argument("--kld-weight", default=None, metavar="W", help="AntixK's configured kld_weight (M_N)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def parse_positive(flag: str, text) -> float:
    """``text`` as a finite float > 0, or a UsageError naming ``flag``."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise UsageError(f"{flag}: expected a number, got '{text}'") from None
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"{flag}: must be a finite number > 0, got {value!r}")
    return value


def _resolve(args):
    from numerics.library_beta import Sizes
    from numerics.library_conventions import LIBRARIES, convention, library_name, options

    library = library_name(args.library)
    if library is None:
        raise UsageError(f"--library: unknown library '{args.library}' (choose from {', '.join(LIBRARIES)})")
    choices = options(library)
    if args.reconstruction is not None and args.reconstruction not in choices:
        raise UsageError(f"--reconstruction: {library} has no option '{args.reconstruction}' "
                         f"(choose from {', '.join(choices)})")
    beta = parse_positive("--beta", args.beta)
    size = {name: None if getattr(args, name) is None else bounded_int(f"--{name.replace('_', '-')}",
                                                                          getattr(args, name), *SIZE_RANGE)
            for name in ("input_dim", "batch_size", "dataset_size")}
    if None not in (size["batch_size"], size["dataset_size"]) and size["batch_size"] > size["dataset_size"]:
        raise UsageError(f"--batch-size: a batch of {size['batch_size']} exceeds the dataset size "
                         f"{size['dataset_size']} (--dataset-size)")
    weight = None if args.kld_weight is None else parse_positive("--kld-weight", args.kld_weight)
    return convention(library, args.reconstruction), beta, Sizes(**size, kld_weight=weight)


def run(args, invocation) -> int:
    from numerics.artifacts import jsonable
    from numerics.input_error import InputError
    from numerics.library_beta import convert

    conv, beta, sizes = _resolve(args)
    try:
        result = convert(conv, beta, sizes)
    except InputError as err:
        hint = ""
        if err.field == "reconstruction":
            from numerics.library_conventions import CONVENTIONS
            gaussian = [c.option for c in CONVENTIONS if c.library == conv.library and c.gaussian]
            hint = f"; a Gaussian --reconstruction of {conv.library}: {', '.join(gaussian)}"
        raise UsageError(f"{FLAGS.get(err.field, err.field)}: {err.problem}{hint}") from None
    for name in result.sizes_unused:
        print(f"note: --{name.replace('_', '-')} is not used by {result.library} {result.option}", file=sys.stderr)
    if args.json:
        doc = jsonable(result)
        doc["meaning"] = {
            "beta": "the paper's beta at decoder variance sigma_d^2 = 1: library loss = loss_factor_beta x "
                    "(-L(beta, 1)) + const",
            "decoder_variance": "the sigma_d^2 at which the library trains the paper's plain ELBO (beta = 1): library "
                                "loss = loss_factor_variance x (-L(1, sigma_d^2)) + const; any beta', sigma_d^2 with "
                                "beta' sigma_d^2 = beta trains the same parameters"}
        print(command_json(doc, invocation, seeds={}, precision={"conversion": "float64"}))
        return 0
    print(f"library: {result.library}, reconstruction {result.option} ({conv.summary})")
    print(f"library beta: {result.library_beta:.15g}")
    print(f"loss per example: {result.formula}")
    print(f"reconstruction scale a: {result.reconstruction_scale:.15g}")
    print(f"KL weight b: {result.kl_weight:.15g}")
    print(f"paper beta (decoder variance 1): {result.beta:.15g}")
    print(f"decoder variance (paper beta 1): {result.decoder_variance:.15g}")
    print(f"derivation: {result.derivation}")
    for c in result.citations:
        print(f"source: {c.short()} {c.url}" + (f" ({c.note})" if c.note else ""))
    return 0
