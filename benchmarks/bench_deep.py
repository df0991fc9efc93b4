"""Benchmarks of the deep beta-VAE, measured in one run (ratios matter more than seconds on a noisy machine).

    python benchmarks/bench_deep.py [--epochs E] [--skip-cli]

Prints:
* batched training of the reduced Fig. 2 models (6 betas x 2 realisations, N = 64, k = 10) against the
  same models trained one at a time in a loop (the same code with one model per program), with 1 thread
  and with all threads, in models x epochs per second, and the ratio;
* the reduced protocols in process (``run_fig2(reduced_fig2())``, ``run_fig3(reduced_fig3())``: what the
  audit's default run pays), with CPU time next to wall time (other processes on the machine show as
  wall > CPU), with the default of 1 thread;
* ``python -m verify train --quick`` and ``--quick --fig3`` end to end (interpreter start and imports
  included).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np
import torch


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def batched_vs_loop(epochs: int) -> list[tuple[str, float, str]]:
    from deep.betavae import data
    from deep.betavae.batched import ModelKey, train_batched
    from deep.device import torch_threads
    from deep.betavae.protocol import reduced_fig2
    from deep.betavae.network import Architecture

    p = reduced_fig2()
    A = data.mixing_matrix(data.sklearn_digits(), p.k)
    train = np.stack([data.fig2_dataset(A, p.examples, data.numpy_stream(0, "data", r)).inputs for r in range(p.seeds)])
    arch = Architecture(N=64, k=p.k)
    models = [ModelKey(r, j, b) for r in range(p.seeds) for j, b in enumerate(p.betas)]
    kwargs = dict(epochs=epochs, batch_size=p.batch_size, seed=0)
    rows = []
    work = len(models) * epochs
    for threads in sorted({1, torch.get_num_threads()}):
        with torch_threads(threads):
            train_batched(arch, models[:2], train, **{**kwargs, "epochs": 1})          # warm-up, not timed
            best = {}
            for _ in range(2):                                                          # best of two, interleaved
                for name, fn in (("batch", lambda: train_batched(arch, models, train, **kwargs)),
                                 ("loop", lambda: [train_batched(arch, [m], train, **kwargs) for m in models])):
                    wall, cpu, _ = timed(fn)
                    best[name] = min(best.get(name, (wall, cpu)), (wall, cpu))
            (t_batch, c_batch), (t_loop, c_loop) = best["batch"], best["loop"]
        rows.append((f"batched, {threads} thread(s): {len(models)} models x {epochs} epochs in one program", t_batch,
                     f"{work / t_batch:.1f} model-epochs/s (CPU {c_batch:.1f} s)"))
        rows.append((f"loop, {threads} thread(s): the same {len(models)} models one at a time", t_loop,
                     f"{work / t_loop:.1f} model-epochs/s (CPU {c_loop:.1f} s); batched is {t_loop / t_batch:.2f}x faster"))
    return rows


def reduced_in_process() -> list[tuple[str, float, str]]:
    from deep.betavae.experiments import run_fig2, run_fig3
    from deep.betavae.protocol import reduced_fig2, reduced_fig3
    rows = []
    total = 0.0
    for name, run, p in (("run_fig2(reduced_fig2())", run_fig2, reduced_fig2()),
                         ("run_fig3(reduced_fig3())", run_fig3, reduced_fig3())):
        wall, cpu, result = timed(lambda: run(p))
        total += wall
        rows.append((name, wall, f"CPU {cpu:.1f} s; train {result.timings['train']:.1f} s, evaluate "
                                 f"{result.timings['evaluate']:.1f} s; threads {result.device['threads_used']}"))
    rows.append(("reduced Fig. 2 + Fig. 3 in one process", total, "budget 25 s"))
    return rows


def cli_runs() -> list[tuple[str, float, str]]:
    rows = []
    for extra in ([], ["--fig3"]):
        argv = [sys.executable, "-m", "verify", "train", "--quick", *extra]
        wall, cpu, out = timed(lambda: subprocess.run(argv, capture_output=True, text=True))
        rows.append((" ".join(["python -m verify train --quick", *extra]), wall,
                     f"exit {out.returncode} (interpreter start and imports included)"))
    return rows


def throughput_and_early_stop(epochs: int = 40) -> list[tuple[str, float, str]]:
    """Training throughput as a fraction of the matrix-product peak measured in the same run (Fig. 2's network, 12
    models), and what letting converged models leave the batched program saves: the same models under a stopping
    rule that stops the large-beta half early, with and without leaving."""
    from deep.betavae import data
    from deep.betavae.batched import ModelKey, train_batched
    from deep.betavae.network import Architecture
    from deep.betavae.protocol import reduced_fig2
    from deep.betavae.stopping import StoppingRule
    from deep.device import torch_threads
    from deep.throughput import epoch_flops, matmul_peak

    p = reduced_fig2()
    A = data.mixing_matrix(data.sklearn_digits(), p.k)
    train = np.stack([data.fig2_dataset(A, p.examples, data.numpy_stream(0, "data", r)).inputs for r in range(p.seeds)])
    arch = Architecture(N=64, k=p.k)
    models = [ModelKey(r, j, b) for r in range(p.seeds) for j, b in enumerate(p.betas)]
    rows = []
    with torch_threads(1):
        peak = matmul_peak("cpu", torch.float32)
        wall, _, run = timed(lambda: train_batched(arch, models, train, epochs=epochs, batch_size=100, seed=0))
        achieved = epoch_flops(arch, p.examples) * len(models) * epochs / wall
        rows.append((f"batched training, {len(models)} Fig. 2 models x {epochs} epochs, 1 thread", wall,
                     f"{achieved / 1e9:.2f} GFLOP/s = {100 * achieved / peak:.0f}% of the 1024^2 float32 matrix-product "
                     f"peak measured now ({peak / 1e9:.1f} GFLOP/s)"))
        # a rule that only the collapsed (large-beta) models meet early
        rule = StoppingRule(window=5, tolerance=0.5, min_epochs=10, max_epochs=epochs)
        stopped = train_batched(arch, models, train, epochs=0, batch_size=100, seed=0, stopping=rule)
        wall_stop, _, _ = timed(lambda: train_batched(arch, models, train, epochs=0, batch_size=100, seed=0,
                                                      stopping=rule))
        saved = 1 - stopped.epochs_run.sum() / (len(models) * epochs)
        rows.append(("the same with a stopping rule: converged models leave the program", wall_stop,
                     f"{int(stopped.converged.sum())} of {len(models)} stopped early ({100 * saved:.0f}% of the "
                     f"model-epochs saved); {wall / wall_stop:.2f}x faster than training every model to the end"))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()
    rows = batched_vs_loop(args.epochs) + reduced_in_process() + throughput_and_early_stop()
    if not args.skip_cli:
        rows += cli_runs()
    width = max(len(r[0]) for r in rows)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads available")
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:8.2f} s  {note}")


if __name__ == "__main__":
    main()
