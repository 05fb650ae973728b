"""The `kyphoangle` command line: one module per command group, each with a `register` function.

Only the module of the command asked for is imported (`kyphoangle --help` and `--version` import none),
so the command line starts quickly. Options before the command apply to every command and to the
workstation: `--db URL`, `--data-dir DIR`, `-v/--verbose`. Exit statuses: `kyphoangle.exit_status`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

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
    "kyphoangle.cli.support",
    "kyphoangle.cli.backup",
    "kyphoangle.cli.sr",
    "kyphoangle.cli.edc",
    "kyphoangle.cli.monitoring",
    "kyphoangle.cli.pacs",
)
"""Modules adding sub-commands; each defines `register(subparsers)` and sets `run=function(args) -> int`."""

COMMAND_SUMMARIES: dict[str, tuple[str, str]] = {
    "measure": ("kyphoangle.cli.measure", "compute measurements from a landmark file"),
    "demo": ("kyphoangle.cli.demo", "the built-in demo study"),
    "import": (
        "kyphoangle.cli.import_",
        "import DICOM films into the study database (data managers and admins)",
    ),
    "users": ("kyphoangle.cli.users", "user accounts and roles"),
    "subjects": ("kyphoangle.cli.subjects", "trial subjects (study codes; identity is kept apart)"),
    "images": ("kyphoangle.cli.images", "imported films"),
    "visits": ("kyphoangle.cli.visits", "the visit schedule and visit assignment"),
    "reads": ("kyphoangle.cli.reads", "reads (landmarks and measurements)"),
    "export": ("kyphoangle.cli.export", "export data for analysis"),
    "recompute": (
        "kyphoangle.cli.recompute",
        "recompute stored measurements from the stored landmarks (audited)",
    ),
    "audit": ("kyphoangle.cli.audit", "the audit trail"),
    "campaign": ("kyphoangle.cli.campaign", "blinded central reading campaigns"),
    "agreement": (
        "kyphoangle.cli.agreement",
        "reader agreement in a central reading campaign (ICC, Bland-Altman, SEM, MDC)",
    ),
    "support-bundle": (
        "kyphoangle.cli.support",
        "write a zip of logs, versions and settings for support (no patient data)",
    ),
    "backup": (
        "kyphoangle.cli.backup",
        "copy the study database to a backup file (SQLite) or dump (PostgreSQL)",
    ),
    "sr": ("kyphoangle.cli.sr", "signed reads as DICOM structured reports and presentation states"),
    "edc": ("kyphoangle.cli.edc", "wide export for the EDC (REDCap) and the statisticians"),
    "monitoring": ("kyphoangle.cli.monitoring", "trial monitoring report (CSV, and HTML with --html)"),
    "pacs": ("kyphoangle.cli.pacs", "PACS nodes: query, retrieve into the import, send reports"),
}
"""Command -> (module registering it, one-line help): lets `--help` list every command without importing
any, and a command import only its own module. A test checks it against the modules' own help."""

EXIT_USAGE_OR_INPUT = ExitStatus.BAD_INPUT
EPILOG = """\
Without a command, the reading workstation opens (the global options apply to it too).

exit statuses:
  0  done
  1  internal error: something unexpected; the details are in the log
  2  bad command line, file or value; nothing was changed
  3  not permitted: your role does not allow the action (the refusal is audited)
  4  partly done: each refusal is named (e.g. skipped files)
"""


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    """The options given before the command (also understood by the workstation)."""

    db: str | None = None
    data_dir: str | None = None
    verbosity: int = 0


_GLOBAL_WITH_VALUE = ("--db", "--data-dir")
_GLOBAL_FLAGS = ("-v", "--verbose", "-vv", "-vvv")


def split_global_options(argv: Sequence[str]) -> tuple[GlobalOptions, list[str]]:
    """The options before the command, and the rest of the line (the command and its arguments).

    Raises KyphoangleError when an option lacks its value.
    """
    values: dict[str, str] = {}
    verbosity = 0
    index = 0
    args = list(argv)
    while index < len(args):
        token = args[index]
        name, equals, value = token.partition("=")
        if name in _GLOBAL_WITH_VALUE:
            if not equals:
                if index + 1 >= len(args) or args[index + 1].startswith("-"):
                    raise KyphoangleError(f"{name} needs a value")
                value = args[index + 1]
                index += 1
            values[name.lstrip("-").replace("-", "_")] = value
        elif token in _GLOBAL_FLAGS:
            verbosity += 1 if token == "--verbose" else token.count("v")
        else:
            break
        index += 1
    return GlobalOptions(values.get("db"), values.get("data_dir"), verbosity), args[index:]


def apply_global_options(options: GlobalOptions) -> None:
    """Make `--data-dir` and `--db` the defaults of everything this process opens afterwards."""
    from kyphoangle.folders import ENV_DATA_DIR

    if options.data_dir:
        os.environ[ENV_DATA_DIR] = str(options.data_dir)
    if options.db:
        from kyphoangle.workstation.connection import ENV_DATABASE

        os.environ[ENV_DATABASE] = options.db


def _base_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(
        prog="kyphoangle",
        description="Spinal angles from endplate landmarks on lateral radiographs. "
        "Without a command, the reading workstation opens.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kyphoangle {__version__}")
    parser.add_argument(
        "--db",
        dest="global_db",
        metavar="URL",
        help="study database for every command and the workstation: an SQLite file path or a URL such as "
        "postgresql://user@host/kyphoangle (default: $KYPHOANGLE_DB, else kyphoangle.sqlite3 in the data "
        "folder)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data folder: default database, demo films, recovery files (default: $KYPHOANGLE_DATA_DIR, "
        "else your user data folder)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more detail in the log, echoed on stderr (repeatable; or set KYPHOANGLE_LOG_LEVEL)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser, subparsers


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command registered (default), or only `commands` registered and the
    others listed by name and help (their modules are not imported)."""
    parser, subparsers = _base_parser()
    if commands is None:
        for name in COMMAND_MODULES:
            importlib.import_module(name).register(subparsers)
        return parser
    for name, (module, help_text) in COMMAND_SUMMARIES.items():
        if name in commands:
            importlib.import_module(module).register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The command named on the line (after the global options), or None."""
    try:
        _, rest = split_global_options(argv)
    except KyphoangleError:
        return None
    return rest[0] if rest and not rest[0].startswith("-") else None


def _parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    command = command_of(argv)
    if command is None:
        return build_parser(())
    if command in COMMAND_SUMMARIES:
        return build_parser((command,))
    return build_parser()  # a command added without a summary, or a typo: argparse names the choices


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; our errors print one line on stderr and exit 2 (3 when the role forbids it);
    anything unexpected is logged with its traceback and exits 1."""
    from kyphoangle.log import configure_logging, get_logger

    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser_for(args_list)
    args = parser.parse_args(args_list)
    if getattr(args, "db", None) is None and args.global_db:
        args.db = args.global_db
    apply_global_options(GlobalOptions(args.global_db, args.data_dir, args.verbose))
    configure_logging(args.verbose)
    logger = get_logger("kyphoangle.cli")
    if getattr(args, "run", None) is None:
        parser.print_help()
        return EXIT_USAGE_OR_INPUT
    what = " ".join(str(v) for k, v in sorted(vars(args).items()) if k == "command" or k.endswith("_command"))
    logger.info("kyphoangle %s: %s", __version__, what)
    json_token = None
    if hasattr(args, "json"):
        from kyphoangle.cli.db_common import TABLES_AS_JSON

        json_token = TABLES_AS_JSON.set(bool(args.json))
    try:
        result: int = args.run(args)
    except PermissionDeniedError as exc:
        logger.info("not permitted: %s", exc)
        print(f"kyphoangle: not permitted: {exc}", file=sys.stderr)
        return ExitStatus.NOT_PERMITTED
    except KyphoangleError as exc:
        logger.info("refused (%s): %s", type(exc).__name__, exc)
        print(f"kyphoangle: error: {exc}", file=sys.stderr)
        return EXIT_USAGE_OR_INPUT
    except BrokenPipeError:
        # The reader of our output (e.g. `head`) closed early: not an error of ours.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return 0
    except KeyboardInterrupt:
        print("kyphoangle: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        return report_internal_error(exc)
    finally:
        if json_token is not None:
            TABLES_AS_JSON.reset(json_token)
    logger.info("finished with exit status %s", result)
    return result


def report_internal_error(exc: BaseException) -> int:
    """Log an unexpected exception with its traceback and print one line naming the log; exit 1."""
    from kyphoangle.log import get_logger, log_file

    get_logger("kyphoangle.cli").error("internal error", exc_info=exc)
    print(
        f"kyphoangle: internal error ({type(exc).__name__}); the details are in {log_file()} "
        "(`kyphoangle support-bundle FILE.zip` collects them for support)",
        file=sys.stderr,
    )
    return ExitStatus.INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
