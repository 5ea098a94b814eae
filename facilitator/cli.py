"""Command line: `facilitator start | run | simulate | demo | resume | devices | ...`.

Each sub-command lives in the room it belongs to and registers itself here through a
`register(subparsers)` function, so this file only lists them. It also owns how the
program ends: SIGTERM and SIGHUP (closing the terminal, shutting down) end a session like
Ctrl-C, and no thread is left inside a model's native code at exit.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
from importlib import metadata

SUBCOMMAND_MODULES = (
    "facilitator.commands_sim",
    "facilitator.commands_run",
    "facilitator.judging.cli",
    "facilitator.speakers.cli",
    "facilitator.review.cli",
    "facilitator.recorded.cli",
)
CONFIG_HELP = "path to config.toml (default: ./config.toml if present); before or after the command"
VERBOSE_HELP = ("log diagnostics on stderr (e.g. each fallback from pyttsx3 to espeak-ng); "
                "before or after the command")


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: handled like Ctrl-C, so the record is closed with an `end`."""


def _version() -> str:
    try:
        return metadata.version("facilitator")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facilitator",
        description="A local, offline, voice-driven coach for the Imago Dialogue. "
                    "Start with `facilitator start` (the microphone, or the demo without one).",
    )
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    parser.add_argument("--version", action="version", version=f"facilitator {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for sub in subparsers.choices.values():
        if not any("--config" in action.option_strings for action in sub._actions):
            sub.add_argument("--config", default=argparse.SUPPRESS, help=CONFIG_HELP)
        if not any("--verbose" in action.option_strings for action in sub._actions):
            sub.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                             help=VERBOSE_HELP)
    return parser


def _set_up_logging(verbose: bool) -> None:
    """Diagnostics go through `logging`: warnings always, facilitator's own details with
    --verbose (other libraries stay at warnings). Messages for the user stay plain stderr."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("facilitator").setLevel(logging.DEBUG if verbose else logging.WARNING)


def _raise_terminated(signum, frame) -> None:
    raise Terminated(signal.Signals(signum).name)


def _handle_signals() -> dict:
    """SIGTERM and SIGHUP raise `Terminated`; returns the handlers they replaced."""
    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            number = getattr(signal, name)
            try:
                previous[number] = signal.signal(number, _raise_terminated)
            except ValueError:   # not the main thread (tests calling main() from a thread)
                pass
    return previous


def _quiet_unraisable(unraisable) -> None:
    """An exception a library could not raise (e.g. in pyttsx3's ctypes callback when the
    disk is full) is one line on stderr, not a traceback."""
    error = unraisable.exc_value
    print(f"(ignored inside a library: {type(error).__name__}: {error})", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    _set_up_logging(bool(getattr(args, "verbose", False)))
    previous = _handle_signals()
    sys.unraisablehook = _quiet_unraisable
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:      # `facilitator history | head`: the reader has all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        from facilitator.loading import Loading

        Loading.join_all()
        for number, handler in previous.items():
            signal.signal(number, handler)
