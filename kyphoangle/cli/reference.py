"""The command-line reference page (`docs/cli.md`), generated from the argument parser itself.

`python -m kyphoangle.cli.reference docs/cli.md` rewrites the page; a test fails when it is stale.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

HELP_WIDTH_COLUMNS = 100
"""Width the help texts are wrapped to, whatever the terminal (the page must not depend on it)."""

HEADER = """# Command-line reference

Generated from the program's own argument parser by `python -m kyphoangle.cli.reference docs/cli.md`
(a test fails when this page no longer matches the program). Every command also answers `--help`.

Options given before the command apply to every command and to the workstation: `--db URL` (the study
database: an SQLite file path or `postgresql://user@host/kyphoangle`), `--data-dir DIR` (the data
folder), `-v` (more detail in the log). Wherever a command writes a file, `-` means standard output.

"""


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _walk(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for _, child in _subcommands(parser):
        yield from _walk(child)


def render_cli_reference() -> str:
    """The Markdown page: the main help, then every command's help in the parser's order."""
    from kyphoangle.cli import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(HELP_WIDTH_COLUMNS + 2)
    try:
        sections = [HEADER]
        for parser in _walk(build_parser()):
            sections.append(f"## `{parser.prog}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(sections)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the page to the file named (standard output without one or with `-`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    page = render_cli_reference()
    if not args or args[0] == "-":
        sys.stdout.write(page)
    else:
        Path(args[0]).write_text(page, encoding="utf-8")  # a page of the documentation: not private
    return 0


if __name__ == "__main__":
    sys.exit(main())
