"""Every benchmark of the project in one run, printed as one table (what, seconds, comparison).

    python benchmarks/run_all.py [--markdown]

Ratios are measured within this run (this machine is shared and noisy: compare rows, not runs).
The per-area scripts (bench_numerics.py, bench_optimal_beta_k.py, bench_deep.py, bench_crosscheck.py) print more
detail.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _command(argv, note_from_json=None):
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "verify", *argv], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    note = f"exit {out.returncode}"
    if note_from_json and out.returncode in (0, 1):
        note += "; " + note_from_json(json.loads(out.stdout))
    return wall, note


def command_rows():
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        wall, note = _command(["audit", "--out", os.path.join(tmp, "a")])
        rows.append(("python -m verify audit (default run, every claim)", wall,
                     note + "; budget 150 s (its spot checks re-train 4 networks of the stored converged runs)"))
    wall, note = _command(["crosscheck", "--quick", "--json"],
                          lambda d: f"max_relative_error {d['max_relative_error']:.2e}; sampled_max_z "
                                    f"{d['sampled_max_z']:.3g}; budget 120 s")
    rows.append(("python -m verify crosscheck --quick", wall, note))
    return rows


def machine_description() -> str:
    """CPU model, cores, memory, OS and the library versions the timings depend on."""
    from numerics.artifacts import versions
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
        with open("/proc/meminfo") as f:
            kib = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        memory = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    import torch
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    v = versions()
    libs = ", ".join(f"{name} {v[name]}" for name in ("numpy", "scipy", "mpmath", "sympy", "torch") if v.get(name))
    return (f"{cpu} ({platform.machine()}), {os.cpu_count()} cores{memory}, {gpu}, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}; {libs}; "
            f"betavae-audit {v.get('betavae-audit')}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    import bench_alignment
    import bench_deep
    import bench_general
    import bench_numerics
    import bench_optimal_beta_k
    import bench_phase_diagram
    rows = bench_numerics.rows() + bench_optimal_beta_k.rows() + bench_deep.batched_vs_loop(3) \
        + bench_deep.reduced_in_process() + bench_deep.throughput_and_early_stop() + bench_deep.cli_runs() \
        + bench_alignment.rows() + bench_general.rows() + bench_phase_diagram.rows() \
        + command_rows()
    machine = machine_description()
    if args.markdown:
        print(f"Measured on {machine}.\n")
        print("| what | seconds | comparison |\n|---|---:|---|")
        for what, sec, note in rows:
            print(f"| {what} | {sec:.3g} | {note} |")
    else:
        width = max(len(r[0]) for r in rows)
        print(machine)
        for what, sec, note in rows:
            print(f"{what:<{width}}  {sec:9.3f} s  {note}")


if __name__ == "__main__":
    main()
