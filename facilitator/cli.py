"""Command line: `facilitator run | demo | devices | ...`.

Each sub-command lives in the room it belongs to and registers itself here through a
`register(subparsers)` function, so this file only lists them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMAND_MODULES = (
    "facilitator.commands_run",
    "facilitator.judging.cli",
    "facilitator.speakers.cli",
    "facilitator.review.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facilitator",
        description="A local, offline, voice-driven coach for the Imago Dialogue.",
    )
    parser.add_argument("--config", help="path to config.toml (default: ./config.toml if present)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name and name.startswith(error.name):
                continue  # that room is not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130
