"""``train``: the deep beta-VAE of Section V (Fig. 2), or ``--fig3`` the canvas experiment of Fig. 3.

    python -m verify train [--quick] [--fig3] [--seeds S] [--epochs E] [--betas B1,B2,...] [--train-seed S0]
                           [--latents K] [--batch-size B] [--mc-samples M] [--eval train|fresh] [--mnist DIR]
                           [--device DEV] [--threads T] [--json] [--plot FILE]

Without ``--quick`` the long protocol runs (a few minutes on a 2-core CPU); ``--quick`` the reduced one
(seconds); explicit flags override either. Every (realisation, beta) model is trained in one batched
program; a progress bar goes to stderr when it is a terminal (never with ``--json``).

Bad input: one line ``error: <flag>: <problem>`` on stderr, exit status 2, nothing written. A library error
(deep.betavae.protocol.ProtocolError, deep.betavae.data.DataError) names the protocol field; :data:`FLAG_OF_FIELD` gives the flag.

>>> from deep.betavae.protocol import ProtocolError
>>> str(_usage_error(ProtocolError("seed", "must be an integer between 0 and 9, got -1")))
'--train-seed: must be an integer between 0 and 9, got -1'
"""
from __future__ import annotations

import argparse
import math
import sys

from .usage import UsageError, bounded_int, check_plot_option, plot_errors


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="the reduced protocol (seconds) instead of the long one")
    parser.add_argument("--protocol", choices=("reduced", "long", "converged", "paper"), metavar="NAME",
                        help="reduced (= --quick), long (default), converged (20 realisations, each trained until the "
                             "stopping rule holds, at most 10000 epochs for Fig. 2 and 1000 for Fig. 3: the audit's "
                             "evidence), paper (Section V / "
                             "Appendix C: 100 or 300 realisations x 1000 epochs; days on a CPU)")
    parser.add_argument("--resume", metavar="DIR", help="run in chunks of realisations, each saved in DIR when done; "
                                                        "rerunning the same command continues where it stopped")
    parser.add_argument("--chunk-seeds", metavar="C", help="realisations per chunk with --resume (default 5)")
    parser.add_argument("--show", metavar="FILE.json.gz", help="train nothing: print (or --json, --plot) stored evidence, "
                                                            "e.g. evidence/fig2-converged.json.gz")
    parser.add_argument("--evidence", metavar="FILE.json.gz", help="also store the result with its provenance as "
                                                                   "evidence (deep.betavae.evidence)")
    parser.add_argument("--fig3", action="store_true", help="Fig. 3: one digit on a canvas at x = A s + eta (N = k = 2)")
    parser.add_argument("--seeds", metavar="S", help="realisations per beta")
    parser.add_argument("--epochs", metavar="E", help="epochs over the data set")
    parser.add_argument("--betas", metavar="B1,B2,...", help="comma-separated betas (> 0)")
    parser.add_argument("--train-seed", metavar="S0", help="base seed of every random stream (default 0; --seed is "
                                                         "only ever the seed of a random mixing matrix)")
    parser.add_argument("--latents", metavar="K", help="Fig. 2: k latents = k digit classes 0..k-1 as columns of A "
                                                       "(default 10, Section V; 2 is Appendix C's)")
    parser.add_argument("--batch-size", metavar="B", help="mini-batch size (not stated in the paper; default 100, "
                                                          "50 in --quick)")
    parser.add_argument("--mc-samples", metavar="M", help="Monte-Carlo samples of the reconstruction term")
    parser.add_argument("--eval", choices=("train", "fresh"), metavar="train|fresh",
                        help="average the terms over each realisation's training set (default, as Appendix C "
                             "reads) or over a fresh sample of the same size from p(x)")
    parser.add_argument("--mnist", metavar="DIR", help="read MNIST IDX files (train-images-idx3-ubyte[.gz], "
                                                       "train-labels-idx1-ubyte[.gz]) instead of scikit-learn's digits")
    parser.add_argument("--dtype", choices=("float32", "float64"), metavar="float32|float64",
                        help="training precision (default float32, as on a GPU; evaluation is always float64)")
    parser.add_argument("--device", metavar="DEV", help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--threads", metavar="T",
                        help="CPU threads, or 'auto' (the faster of 1 and all, measured); default 1: on a shared "
                             "small machine more threads can be far slower")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    parser.add_argument("--plot", metavar="FILE.png", help="write the figure (Fig. 2 panels A-D; Fig. 3 also E)")


# Measured: 1e-30 and 1e30 train and evaluate; 1e40 overflows float32 and crashed the TIE alignment
TRAIN_BETAS = (1e-30, 1e30)


def parse_betas(text: str) -> tuple[float, ...]:
    """'0.1,1,10' -> (0.1, 1.0, 10.0); every beta finite and > 0, no repeats."""
    values = []
    for part in text.split(","):
        part = part.strip()
        try:
            value = float(part)
        except ValueError:
            raise UsageError(f"--betas: expected comma-separated numbers, got '{part}'") from None
        if not math.isfinite(value) or value <= 0:
            raise UsageError(f"--betas: beta must be a finite number > 0, got {part}")
        if not TRAIN_BETAS[0] <= value <= TRAIN_BETAS[1]:
            raise UsageError(f"--betas: beta = {part} is outside {TRAIN_BETAS[0]:g} <= beta <= {TRAIN_BETAS[1]:g}: the "
                             "networks train in float32 (largest 3.4e38), where beta x KL overflows")
        values.append(value)
    if len(set(values)) != len(values):
        raise UsageError(f"--betas: repeated beta in '{text}'")
    return tuple(values)


# The protocol field each flag sets (deep.betavae.protocol.Protocol); a library error names the field, the flag is added here.
FLAG_OF_FIELD = {"seeds": "--seeds", "epochs": "--epochs", "seed": "--train-seed", "latents": "--latents",
                 "batch_size": "--batch-size", "mc_samples": "--mc-samples", "betas": "--betas", "mnist": "--mnist",
                 "eval_on": "--eval", "dtype": "--dtype"}


def _usage_error(err) -> UsageError:
    """A deep.betavae.protocol.ProtocolError or deep.betavae.data.DataError as the usage error of the flag that set
    its field."""
    flag = FLAG_OF_FIELD.get(err.field, f"protocol field {err.field}")
    return UsageError(f"{flag}: {err.problem}")


def _integer(flag: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{flag}: expected an integer, got '{text}'") from None


def build_protocol(args):
    """The protocol the flags describe (validated), or UsageError."""
    from deep.betavae import protocol as presets
    from deep.levels import train_level

    from deep.levels import level
    if args.quick and args.protocol not in (None, "reduced"):
        raise UsageError(f"--protocol: --quick is the reduced protocol, got --protocol {args.protocol}")
    chosen = level(args.protocol) if args.protocol else train_level(args.quick)
    base = chosen.figure("fig3" if args.fig3 else "fig2")
    changes = {}
    # integers are parsed here; their ranges are the protocol's (Protocol.validated), reported under the flag
    for name, attr in (("seeds", "seeds"), ("epochs", "epochs"), ("seed", "train_seed"), ("latents", "latents"),
                       ("batch_size", "batch_size"), ("mc_samples", "mc_samples")):
        text = getattr(args, attr)
        if text is not None:
            changes[name] = _integer(FLAG_OF_FIELD[name], text)
    if args.betas is not None:
        changes["betas"] = parse_betas(args.betas)
    if args.fig3 and changes.get("latents", 2) != 2:
        raise UsageError(f"--latents: Fig. 3 has k = 2 (N = k = 2 in its caption), got {changes['latents']}")
    if args.mnist is not None:
        changes["mnist"] = args.mnist
    if args.eval is not None:
        changes["eval_on"] = args.eval
    if args.dtype is not None:
        changes["dtype"] = args.dtype
    try:
        return base.with_changes(**changes)
    except presets.ProtocolError as err:
        raise _usage_error(err) from None


def _check_inputs(args, protocol):
    """Everything that can be wrong with the input, before any training or writing."""
    from deep.betavae.data import DataError, load_mnist

    if args.plot is not None:
        check_plot_option(args.plot)
    if protocol.mnist is not None:
        try:
            digits = load_mnist(protocol.mnist)
            from deep.betavae.data import representatives
            classes = [protocol.digit] if protocol.figure == "fig3" else list(range(protocol.k))
            representatives(digits, classes)
        except DataError as err:
            raise _usage_error(err) from None
        if digits.labels is None:
            print("warning: no train-labels-idx1-ubyte[.gz] next to the images: the first images stand for "
                  "classes 0, 1, ...", file=sys.stderr)
    device = None
    if args.device is not None:
        import torch
        if args.device not in ("cpu", "cuda") and not args.device.startswith("cuda:"):
            raise UsageError(f"--device: expected cpu or cuda, got '{args.device}'")
        if args.device.startswith("cuda") and not torch.cuda.is_available():
            raise UsageError("--device: CUDA is not available on this machine")
        device = args.device
    import os
    threads = None
    if args.threads is not None:
        threads = "auto" if args.threads == "auto" else bounded_int("--threads", args.threads, 1, max(1, os.cpu_count() or 1))
    return device, threads


def _warnings(protocol) -> list[str]:
    notes = []
    if 1.0 not in protocol.betas:
        notes.append("the beta grid does not contain 1: ELBO's maximum at beta = 1 (Proposition 3) cannot be located on it")
    if protocol.seeds == 1:
        notes.append("one realisation: the min/max band is the curve itself")
    if len(protocol.betas) < 3:
        notes.append("fewer than 3 betas: no interior extremum can be seen")
    if protocol.figure == "fig3":
        import numpy as np
        for b in protocol.traversal_betas:
            nearest = protocol.betas[int(np.argmin(np.abs(np.log(protocol.betas) - math.log(b))))]
            if nearest != b:
                notes.append(f"traversal for beta = {b:g} uses the nearest trained beta, {nearest:g}")
    return notes


def format_result(result) -> str:
    """The human-readable table and the shape facts."""
    p = result.protocol
    shape = result.shape()
    lines = [f"{'Fig. 3' if p['figure'] == 'fig3' else 'Fig. 2'} ({p['name']}): {len(result.seeds)} realisations x "
             f"{len(result.betas)} betas, {p['epochs']} epochs over {p['examples']} examples, batch {p['batch_size']}, "
             f"k = {p['k']}, {p['mc_samples']} Monte-Carlo samples, seed {p['seed']}, terms averaged over "
             f"{'the training set' if p['eval_on'] == 'train' else 'a fresh sample from p(x)'}",
             f"images: {result.images}",
             "mean [min, max] over realisations:",
             f"{'beta':>8} {'ln beta':>8}  {'ELBO':>28}  {'TIE':>26}  {'reconstruction':>28}  {'KL':>24}"]

    def cell(name, j, width):
        a = getattr(result, name)[:, j]
        return f"{a.mean():.3f} [{a.min():.3f}, {a.max():.3f}]".rjust(width)

    for j in sorted(range(len(result.betas)), key=lambda j: result.betas[j]):
        beta = result.betas[j]
        lines.append(f"{beta:>8.4g} {math.log(beta):>8.3f}  {cell('elbo', j, 28)}  {cell('tie', j, 26)}  "
                     f"{cell('reconstruction', j, 28)}  {cell('kl', j, 24)}")
    r, k, e, t = shape["reconstruction"], shape["kl"], shape["elbo"], shape["tie"]
    yes = {True: "yes", False: "no"}
    lines += [
        f"reconstruction non-increasing in beta (steps up within 2 Monte-Carlo standard errors ignored): mean curve "
        f"{yes[r['mean_non_increasing']]}; {r['realisations_non_increasing']}/{r['realisations']} realisations "
        f"({r['realisations_strictly_non_increasing']} strictly)",
        f"KL non-increasing in beta (steps up below 1e-3 nats ignored): mean curve {yes[k['mean_non_increasing']]}; "
        f"{k['realisations_non_increasing']}/{k['realisations']} realisations ({k['realisations_strictly_non_increasing']} "
        f"strictly)",
        f"ELBO largest at beta = {e['argbest_beta']:g} (mean curve); per realisation: "
        + ", ".join(f"{b:g}" for b in e["realisation_argbest_betas"]),
        f"TIE smallest at beta = {t['argbest_beta']:g} (mean curve; interior of the grid: {yes[t['interior']]}); "
        f"per realisation: " + ", ".join(f"{b:g}" for b in t["realisation_argbest_betas"]),
        "TIE alignment: " + ("exact: the minimum over every signed permutation (enumeration up to k = 7, branch and bound above)" if shape["alignment_exact"]
                             else "heuristic local search (each TIE is an upper bound of the gauge-aligned TIE)"),
        f"Monte-Carlo standard error of the reconstruction term: at most {result.reconstruction_se.max():.3g}",
        f"wall time {result.wall_time:.1f} s (train {result.timings['train']:.1f} s, evaluate "
        f"{result.timings['evaluate']:.1f} s) on {result.device['device']}, {result.device['threads_used']} thread(s)",
    ]
    return "\n".join(lines)


def _input_size(result) -> int:
    """Pixels the network sees: Fig. 3's canvas, or one digit image of the set Fig. 2 mixes."""
    if getattr(result, "canvas", None):
        return int(result.canvas["side"]) ** 2
    from deep.betavae.data import load_mnist, sklearn_digits
    mnist = result.protocol.get("mnist")
    return int((load_mnist(mnist) if mnist else sklearn_digits()).images[0].size)


def _throughput(result, protocol, device) -> dict:
    """Achieved training operations per second as a fraction of a matrix-product peak measured now (same device,
    dtype and threads), and the time the paper's protocol would take at that speed (deep.throughput)."""
    from deep.betavae.network import Architecture
    from deep.betavae.protocol import paper_fig2, paper_fig3
    from deep.device import torch_dtype, torch_threads
    from deep.throughput import matmul_peak, projected_seconds, throughput

    arch = Architecture(N=_input_size(result), k=int(result.protocol["k"]))
    epochs = float(result.epochs_run.sum()) if result.epochs_run is not None else \
        float(len(result.seeds) * len(result.betas) * result.protocol["epochs"])
    with torch_threads(result.device.get("threads_used")):
        peak = matmul_peak(device, torch_dtype(protocol.dtype))
    out = throughput(arch, epochs, protocol.examples, result.timings["train"], peak)
    paper = paper_fig3() if protocol.figure == "fig3" else paper_fig2()
    out["paper_protocol"] = paper.name
    out["paper_projected_seconds"] = projected_seconds(arch, paper, out["flops_per_second"])
    return out


def format_convergence(result) -> str:
    """Per beta: epochs run, how many runs met the stopping rule, the gap to the linear optimum on the training set,
    and TIE on fresh data next to the linear optimum's."""
    import numpy as np
    p = result.protocol
    rule = p.get("stopping")
    head = (f"stopping rule: {rule['rule']} (window {rule['window']}, tolerance {rule['tolerance']}, "
            f"min {rule['min_epochs']}, max {rule['max_epochs']} epochs)" if rule else
            f"fixed budget of {p['epochs']} epochs; 'converged' = the default stopping rule read off the end of the run")
    lines = [head, f"{'beta':>8}  {'epochs [min, max]':>18}  {'converged':>9}  {'gap to linear optimum, mean [min, max]':>40}"
                   f"  {'TIE train':>9}  {'TIE fresh':>9}  {'TIE linear':>10}"]
    for j in sorted(range(len(result.betas)), key=lambda j: result.betas[j]):
        e, c = result.epochs_run[:, j], result.converged[:, j]
        gap = result.gap_to_linear_optimum[:, j]
        lines.append(f"{result.betas[j]:>8.4g}  {f'{int(np.median(e))} [{e.min()}, {e.max()}]':>18}  "
                     f"{f'{int(c.sum())}/{c.size}':>9}  {f'{gap.mean():.3f} [{gap.min():.3f}, {gap.max():.3f}]':>40}  "
                     f"{result.tie[:, j].mean():>9.3f}  {result.tie_fresh[:, j].mean():>9.3f}  "
                     f"{result.linear_optimum['tie'][:, j].mean():>10.3f}")
    c = result.converged
    lines.append(f"converged: {int(c.sum())} of {c.size} runs; gap = trained objective - the linear beta-VAE's optimum on "
                 "the same training set (nats per example; > 0: the network beats the linear family)")
    return "\n".join(lines)


def format_throughput(speed: dict) -> str:
    hours = speed["paper_projected_seconds"] / 3600
    return (f"throughput {speed['flops_per_second'] / 1e9:.3g} GFLOP/s = {100 * speed['fraction_of_peak']:.1f}% of the "
            f"matrix-product peak measured now ({speed['matmul_peak_flops_per_second'] / 1e9:.3g} GFLOP/s); at this "
            f"speed the paper's protocol ({speed['paper_protocol']}) would take {hours:.3g} h here")


def _show(args, invocation) -> int:
    """``--show FILE``: stored evidence as ``train`` would print it (its own protocol, provenance, alignment times)."""
    import gzip
    import json
    import zlib

    from deep.betavae.evidence import load_evidence
    from deep.betavae.plots import plot_fig2, plot_fig3

    from ..output import command_json
    others = [flag for flag, value in (("--quick", args.quick), ("--fig3", args.fig3), ("--protocol", args.protocol),
                                       ("--resume", args.resume), ("--evidence", args.evidence), ("--seeds", args.seeds),
                                       ("--epochs", args.epochs), ("--betas", args.betas)) if value]
    if others:
        raise UsageError(f"--show: trains nothing, so {others[0]} does not apply")
    if args.plot is not None:
        check_plot_option(args.plot)
    try:
        result = load_evidence(args.show)
    except FileNotFoundError:
        raise UsageError(f"--show: no such file '{args.show}'") from None
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, json.JSONDecodeError, KeyError, TypeError) as err:
        raise UsageError(f"--show: '{args.show}' is not stored evidence ({type(err).__name__})") from None
    if args.plot is not None:
        with plot_errors(args.plot):
            (plot_fig3 if result.figure == "fig3" else plot_fig2)(result, args.plot)
    if args.json:
        print(command_json({"command": "train", **result.to_json(), "provenance": result.provenance}, invocation,
                           seeds={"base_seed": result.protocol["seed"], "realisations": list(result.seeds)},
                           precision={"training": f"torch {result.protocol['dtype']}"}))
        return 0
    prov = result.provenance
    print(format_result(result))
    print(format_convergence(result))
    print(f"stored evidence {args.show}: code hash {prov['code_hash']} ({'the code running now' if prov['code_hash_matches'] else 'not the code running now: ' + prov['current_code_hash']}); "
          f"regenerate with: {' '.join(prov['command'])}")
    if prov.get("alignment"):
        a = prov["alignment"]
        print(f"TIE aligned when stored: {a['networks']} networks, methods {a['methods']}, {a['seconds_total']:.1f} s in all "
              f"(median {a['seconds_median']:.3g} s, max {a['seconds_max']:.3g} s)")
    if args.plot is not None:
        print(f"wrote {args.plot}")
    return 0


def run(args, invocation) -> int:
    from deep.betavae.experiments import run_fig2, run_fig3
    from deep.betavae.plots import plot_fig2, plot_fig3
    from deep.device import pick_device

    from ..output import command_json

    if args.show is not None:
        return _show(args, invocation)
    protocol = build_protocol(args)
    device, threads = _check_inputs(args, protocol)
    chunk = 5 if args.chunk_seeds is None else bounded_int("--chunk-seeds", args.chunk_seeds, 1, protocol.seeds)
    if args.chunk_seeds is not None and args.resume is None:
        raise UsageError("--chunk-seeds: only with --resume DIR")
    if args.evidence is not None and not args.evidence.endswith(".json.gz"):
        raise UsageError(f"--evidence: expected a file name ending in .json.gz, got '{args.evidence}'")
    if args.resume is not None:
        from deep.betavae.campaign import CampaignError, check_campaign
        try:
            check_campaign(protocol, args.resume)
        except CampaignError as err:
            raise UsageError(f"--resume: {err}") from None
    for note in _warnings(protocol):
        print(f"warning: {note}", file=sys.stderr)
    progress = sys.stderr.isatty() and not args.json
    runner = run_fig3 if protocol.figure == "fig3" else run_fig2
    peak_device = device or pick_device(None)
    if args.resume is not None:
        from deep.betavae.campaign import CampaignError, run_campaign
        try:
            result = run_campaign(protocol, args.resume, chunk_seeds=chunk, progress=progress, device=device,
                                  threads=threads)
        except CampaignError as err:
            raise UsageError(f"--resume: {err}") from None
    else:
        result = runner(protocol, progress=progress, device=device, threads=threads)
    speed = _throughput(result, protocol, peak_device)
    if args.evidence is not None:
        from deep.betavae.evidence import write_evidence
        write_evidence(result, args.evidence, command=["python", "-m", "verify", *invocation.command])
    if args.plot is not None:
        with plot_errors(args.plot):
            (plot_fig3 if protocol.figure == "fig3" else plot_fig2)(result, args.plot)
    if args.json:
        doc = {"command": "train", **result.to_json(), "throughput": speed}
        if args.plot is not None:
            doc["plot"] = args.plot
        p = result.protocol
        print(command_json(doc, invocation, seeds={
            "base_seed": p["seed"], "realisations": [int(x) for x in result.seeds],
            "streams": "data, initial weights, mini-batch order, reparameterisation and evaluation noise: one numpy "
                       "SeedSequence per (base seed, purpose, realisation, beta index); see deep/streams.py"},
            precision={"training": f"torch {p['dtype']}", "evaluation": "float64 (exact Gaussian KL terms)",
                       "reconstruction_mc_samples": p["mc_samples"]}))
    else:
        print(format_result(result))
        print(format_convergence(result))
        print(format_throughput(speed))
        if args.plot is not None:
            print(f"wrote {args.plot}")
    return 0
