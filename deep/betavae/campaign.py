"""A long experiment in chunks of realisations, resumable: each finished chunk is a file, a rerun skips it.

``run_campaign(protocol, directory)`` trains realisations ``first_seed .. first_seed + seeds - 1`` of a protocol in
chunks of ``chunk_seeds``; chunk c is written to ``directory/chunk-<first>-<last>.json`` (the ``train --json``
document of that chunk) by an atomic rename when it is complete, so an interrupted campaign loses at most the chunk in
progress and a rerun with the same protocol continues where it stopped. ``directory/protocol.json`` pins the
protocol: a rerun with a different one is refused (chunks of two protocols never mix). Every realisation has its own
random streams (:mod:`deep.streams`), so chunking does not change what a model is, up to floating-point rounding of the
batched products (a model trained among other models can differ in the last bits, which long training amplifies).

>>> import tempfile
>>> from deep.betavae.protocol import reduced_fig3
>>> p = reduced_fig3().with_changes(seeds=2, epochs=1, betas=(1.0, 60.0), mc_samples=2, batch_size=500, examples=500)
>>> with tempfile.TemporaryDirectory() as d:
...     first = run_campaign(p, d, chunk_seeds=1)
...     again = run_campaign(p, d, chunk_seeds=1)        # nothing left to train: read back from the chunk files
>>> first.seeds, again.seeds, bool((first.kl == again.kl).all())
((0, 1), (0, 1), True)
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .evidence import result_from_json
from .protocol import Protocol


class CampaignError(ValueError):
    """The directory holds a campaign of another protocol."""


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def chunks(protocol: Protocol, chunk_seeds: int) -> list[tuple[int, int]]:
    """(first, count) of every chunk of realisations."""
    reps = protocol.replicates
    return [(reps[i], min(chunk_seeds, len(reps) - i)) for i in range(0, len(reps), chunk_seeds)]


def check_campaign(protocol: Protocol, directory) -> None:
    """CampaignError when ``directory`` holds a campaign of another protocol (nothing is written)."""
    from numerics.artifacts import dumps
    pinned = Path(directory) / "protocol.json"
    mine = protocol.with_changes(seeds=1, first_seed=0).to_json()      # the chunk-independent part
    if pinned.exists() and json.loads(pinned.read_text()) != json.loads(dumps(mine)):
        raise CampaignError(f"'{directory}' holds a campaign of another protocol ({pinned}); use a new directory")


def run_campaign(protocol: Protocol, directory, *, chunk_seeds: int = 5, progress: bool = False, device=None,
                 threads=None, on_chunk=None):
    """Run (or resume) the campaign and return the merged result of every realisation."""
    from ..device import pick_device
    from .experiments import run_fig2, run_fig3

    from numerics.artifacts import dumps

    protocol = protocol.validated()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    check_campaign(protocol, directory)
    pinned = directory / "protocol.json"
    if not pinned.exists():
        _write_atomic(pinned, dumps(protocol.with_changes(seeds=1, first_seed=0).to_json()))
    runner = run_fig3 if protocol.figure == "fig3" else run_fig2
    docs = []
    for first, count in chunks(protocol, chunk_seeds):
        path = directory / f"chunk-{first:05d}-{first + count - 1:05d}.json"
        if not path.exists():
            part = runner(protocol.with_changes(seeds=count, first_seed=first), progress=progress,
                          device=pick_device(device), threads=threads)
            _write_atomic(path, dumps({"command": "train", **part.to_json()}))
            if on_chunk is not None:
                on_chunk(first, count, part)
        docs.append(json.loads(path.read_text()))
    return merge(docs)


def merge(docs: list[dict]):
    """One result from chunk documents of the same protocol (realisations in order; Fig. 3's traversal from the
    first chunk, which holds the first realisation)."""
    docs = sorted(docs, key=lambda d: d["seeds"][0])
    merged = dict(docs[0])
    merged["seeds"] = [s for d in docs for s in d["seeds"]]
    merged["records"] = [r for d in docs for r in d["records"]]
    merged["wall_time"] = sum(d["wall_time"] for d in docs)
    merged["timings"] = {k: sum(d["timings"][k] for d in docs) for k in docs[0]["timings"]}
    merged["protocol"] = {**docs[0]["protocol"], "seeds": len(merged["seeds"]), "first_seed": merged["seeds"][0]}
    return result_from_json(merged)
