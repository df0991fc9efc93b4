"""``probe``: measure your own encoder (and decoder) against the exact theory of the paper's linear model.

``python -m verify probe --encoder FILE.py:FACTORY [--decoder FILE.py:FACTORY] --beta B [--samples N] [--seed S]
[--monte-carlo] [--json]`` with the shared problem options (``--problem paper|fig3``, ``--mixing FILE``,
``--random NxK``). ``FACTORY()`` returns a torch module or a function: the encoder maps a float64 tensor (n, N) to
(mean, log-variance), each (n, k); the decoder maps z (n, k) to the mean of p(x|z), (n, N), of unit variance
(:mod:`deep.probe`). ``--seed`` seeds what is random in the input: the ``--random`` matrix and, from separate streams,
the Monte-Carlo draws and the affine test's check points.

Reported: the gauge-aligned TIE against the true posterior, the KL, with a decoder the reconstruction term, the ELBO
and the objective, and the gap to the closed-form optimum at the same beta (probe minus optimum for TIE, the loss
-(reconstruction - beta KL) and the negative ELBO). Exact for an affine encoder (and decoder), detected by the affine
test; otherwise Monte-Carlo with standard errors. The JSON document has ``tie``, ``kl``, ``exact``, ``alignment``,
``gap_to_optimum`` and the rest of :meth:`deep.probe.result.ProbeResult.to_json`, with the provenance (the user's
files by path, factory and SHA-256).

The user's files are imported only after every other argument has been accepted; anything they print goes to stderr
(stdout carries the result alone). Exit status 0; 2 on bad input, one line ``error: --encoder: ...`` (or
``--decoder``, ``--beta``, ...) on stderr and nothing on stdout.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> configure(parser)
>>> args = parser.parse_args(["--encoder", "enc.py:make", "--beta", "2", "--problem", "fig3"])
>>> args.encoder, args.decoder, args.samples, args.monte_carlo
('enc.py:make', None, None, False)
"""
from __future__ import annotations

import contextlib
import math
import sys

from .problem_options import add_problem_arguments, problem_input, problem_seeds, random_seed, resolve_problem
from .usage import UsageError, bounded_int


def configure(parser) -> None:
    parser.add_argument("--encoder", required=True, metavar="FILE.py:FACTORY",
                        help="FACTORY() returns a torch module or function: x (n, N) float64 -> (mean, logvar), each "
                             "(n, k)")
    parser.add_argument("--decoder", metavar="FILE.py:FACTORY",
                        help="FACTORY() returns a torch module or function: z (n, k) -> the mean of p(x|z), (n, N)")
    parser.add_argument("--beta", required=True, metavar="B", help="beta (> 0)")
    parser.add_argument("--samples", default=None, metavar="N",
                        help="Monte-Carlo draws of x where the values are not exact (default 20000)")
    parser.add_argument("--monte-carlo", action="store_true",
                        help="Monte-Carlo even for an affine encoder or decoder (a second route)")
    add_problem_arguments(parser)


def run(args, invocation) -> int:
    import deep.probe as dp

    from ..output import command_json

    try:
        beta = float(args.beta)
    except ValueError:
        raise UsageError(f"--beta: expected a number, got '{args.beta}'") from None
    if not (math.isfinite(beta) and beta > 0):
        raise UsageError(f"--beta: must be a finite number > 0, got {args.beta}")
    samples = bounded_int("--samples", args.samples, 2, dp.MAX_SAMPLES) if args.samples is not None \
        else dp.DEFAULT_SAMPLES
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed: must be a non-negative integer, got {args.seed}")
    problem = resolve_problem(args)
    seed = random_seed(args)
    # the user's code runs only now, every other argument accepted; what it prints must not mix with the result
    with contextlib.redirect_stdout(sys.stderr):
        try:
            for spec, field in ((args.encoder, "encoder"), (args.decoder, "decoder")):
                if spec is not None:       # both files' forms checked before either is imported
                    dp.check_spec(spec, field)
            encoder = dp.load_factory(args.encoder, "encoder")
            decoder = dp.load_factory(args.decoder, "decoder") if args.decoder is not None else None
            result = dp.probe(encoder.model, problem.A, beta, decoder.model if decoder is not None else None,
                              samples=samples, seed=seed, route="monte-carlo" if args.monte_carlo else "auto")
        except dp.ProbeInputError as err:
            raise UsageError(f"--{err.field}: {err.problem}") from None
    for note in problem.warnings:
        print(f"warning: {note}", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        doc = {"problem": {"name": problem.name, "description": problem.description}, **result.to_json()}
        models = {"encoder": _model_input(encoder)}
        if decoder is not None:
            models["decoder"] = _model_input(decoder)
        seeds = {**problem_seeds(args), "probe": seed}
        print(command_json(doc, invocation, seeds=seeds, inputs={**problem_input(problem), **models},
                           precision={"probe": "float64 (torch and numpy)", "closed_form": "float64 (numpy)"}))
    else:
        print(format_result(result, problem.description))
    return 0


def _model_input(loaded) -> dict:
    return {"file": loaded.file, "factory": loaded.factory, "sha256": loaded.sha256}


def format_result(result, description: str) -> str:
    """The result as a table: each quantity, its standard error (``exact`` where exact), the optimum, the gap."""
    lines = [f"probe: {description}; beta = {result.beta:g}", f"route: {result.why}",
             f"{'quantity':<16} {'probe':>17} {'+- se':>10} {'optimum':>17} {'gap':>17}"]
    gap = result.gap_to_optimum
    rows = [("tie", result.tie, result.optimum.tie, gap.tie), ("tie as labelled", result.tie_as_labelled, None, None),
            ("kl", result.kl, result.optimum.kl, None),
            ("reconstruction", result.reconstruction, result.optimum.reconstruction, None),
            ("elbo", result.elbo, result.optimum.elbo, gap.negative_elbo),
            ("objective", result.objective, result.optimum.objective, gap.loss)]
    for name, estimate, optimum, difference in rows:
        if estimate is None:
            continue
        se = "exact" if estimate.exact else f"{estimate.se:.3g}"
        lines.append(f"{name:<16} {estimate.value:>17.10g} {se:>10} {_g(optimum):>17} "
                     f"{_g(difference.value if difference is not None else None):>17}")
    a = result.alignment
    lines.append(f"alignment: latent j -> source {list(a.permutation)}, signs {list(a.signs)} ({a.method})")
    lines.append("gap: probe minus optimum of tie, of the negative elbo (elbo row) and of the loss "
                 "-(reconstruction - beta kl) (objective row); the loss gap is >= 0 for affine maps")
    return "\n".join(lines)


def _g(value) -> str:
    return "" if value is None else f"{value:.10g}"
