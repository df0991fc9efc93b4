"""``equations [--json]``: the ledger of equations (1)-(61), each a definition, covered by a claim, or compared.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> configure(parser)
>>> parser.parse_args(["--json"]).json
True
"""
from __future__ import annotations


def configure(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the ledger as one JSON list")


def run(args, invocation) -> int:
    from derivations.document import load_or_build

    from ..derivation import DERIVATION_PRECISION, derivation_seeds
    from ..equations import format_table, ledger
    from ..output import command_json
    rows = ledger(load_or_build())
    if args.json:
        print(command_json(rows, invocation, seeds=derivation_seeds(), precision=DERIVATION_PRECISION))
    else:
        print(format_table(rows))
    return 0
