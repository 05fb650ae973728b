"""The `kyphoangle` command line: one module per command group, each with a `register` function."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from kyphoangle import __version__
from kyphoangle.errors import KyphoangleError, PermissionDeniedError
from kyphoangle.exit_status import ExitStatus

COMMAND_MODULES: tuple[str, ...] = (
    "kyphoangle.cli.measure",
    "kyphoangle.cli.demo",
    "kyphoangle.cli.import_",
    "kyphoangle.cli.users",
    "kyphoangle.cli.subjects",
    "kyphoangle.cli.images",
    "kyphoangle.cli.visits",
    "kyphoangle.cli.reads",
    "kyphoangle.cli.export",
    "kyphoangle.cli.recompute",
    "kyphoangle.cli.audit",
    "kyphoangle.cli.campaign",
    "kyphoangle.cli.agreement",
    "kyphoangle.cli.normal_tables",
)
"""Modules adding sub-commands; each defines `register(subparsers)` and sets `run=function(args) -> int`."""

EXIT_USAGE_OR_INPUT = ExitStatus.BAD_INPUT


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="kyphoangle",
        description="Spinal angles from endplate landmarks on lateral radiographs. "
        "Without a command, the reading workstation opens.",
    )
    parser.add_argument("--version", action="version", version=f"kyphoangle {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; our errors print one line on stderr and exit 2 (3 when the role forbids it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return EXIT_USAGE_OR_INPUT
    try:
        result: int = args.run(args)
    except PermissionDeniedError as exc:
        print(f"kyphoangle: not permitted: {exc}", file=sys.stderr)
        return ExitStatus.NOT_PERMITTED
    except KyphoangleError as exc:
        print(f"kyphoangle: error: {exc}", file=sys.stderr)
        return EXIT_USAGE_OR_INPUT
    except BrokenPipeError:
        # The reader of our output (e.g. `head`) closed early: not an error of ours.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return 0
    except KeyboardInterrupt:
        print("kyphoangle: interrupted", file=sys.stderr)
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
