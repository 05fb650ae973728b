"""The program's log: standard `logging` to a rotating file in the log folder, kept free of patient data.

`configure_logging` is called once by the command line and the workstation. The level is INFO unless
`KYPHOANGLE_LOG_LEVEL` names another (DEBUG, INFO, WARNING, ERROR); each `-v` lowers it one step and
echoes the records on standard error. Every unexpected exception is written with its traceback, while
the user sees one line or one dialog.

What could identify a patient never reaches the file: before a record is written, file names and
paths, quoted values, DICOM UIDs and dates in its message and traceback are replaced by placeholders
(`scrub`). Program source lines of tracebacks are kept, they name only the program's own files.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import time
from pathlib import Path

from kyphoangle.folders import log_folder

LOGGER_NAME = "kyphoangle"
"""The root of the program's loggers (modules log to `kyphoangle.<module>`)."""
LOG_FILENAME = "kyphoangle.log"
ENV_LOG_LEVEL = "KYPHOANGLE_LOG_LEVEL"
"""Environment variable with the log level (DEBUG, INFO, WARNING or ERROR)."""
DEFAULT_LEVEL = logging.INFO
LOG_FILE_MAX_BYTES = 1_000_000
LOG_FILE_BACKUPS = 5
"""A full file is renamed `kyphoangle.log.1` ... `.5`; at most about 6 MB of logs are kept."""
_FORMAT = "%(asctime)sZ %(levelname)s %(name)s [%(process)d]: %(message)s"

_SOURCE_LINE = re.compile(r'^\s*File "[^"]+\.py", line \d+')
_PLACEHOLDERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"'[^'\n]*'|\"[^\"\n]*\""), "'<value>'"),
    (re.compile(r"(?<![\w.<>])(?:[A-Za-z]:\\|\\\\|~/|/)[^\s'\",;:()]+"), "<path>"),
    (
        re.compile(
            r"[^\s'\",;()]+\.(?:dcm|dicom|ima|img|json|csv|tsv|zip|pdf|html?|xlsx?|sqlite3?|db|txt|xml)\b",
            re.IGNORECASE,
        ),
        "<file>",
    ),
    (re.compile(r"\bDICOMDIR\b"), "<file>"),
    (re.compile(r"\b\d+(?:\.\d+){3,}\b"), "<uid>"),
    (re.compile(r"\b(?:19|20)\d{2}-?\d{2}-?\d{2}\b"), "<date>"),
)


def scrub(text: str) -> str:
    """`text` with file names, paths, quoted values, UIDs and dates replaced by placeholders.

    Lines naming a program source file in a traceback (`File "...py", line N`) are kept as they are.
    """
    lines = []
    for line in text.splitlines():
        if not _SOURCE_LINE.match(line):
            for pattern, placeholder in _PLACEHOLDERS:
                line = pattern.sub(placeholder, line)
        lines.append(line)
    return "\n".join(lines)


class ScrubbingFormatter(logging.Formatter):
    """A formatter whose message and traceback go through `scrub` (the time stamp, in UTC, stays)."""

    converter = staticmethod(time.gmtime)

    def format(self, record: logging.LogRecord) -> str:
        """The record as one entry; a traceback another handler cached unscrubbed is formatted anew."""
        cached = record.exc_text
        record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        """The record's line, its message scrubbed."""
        record.message = scrub(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: object) -> str:  # noqa: N802 - logging's name
        """The traceback, scrubbed."""
        return scrub(super().formatException(ei))  # type: ignore[arg-type]

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        """The stack, scrubbed."""
        return scrub(super().formatStack(stack_info))


def log_level(verbosity: int = 0) -> int:
    """The level asked for: `KYPHOANGLE_LOG_LEVEL` (else INFO), one step lower per `-v`."""
    name = os.environ.get(ENV_LOG_LEVEL, "").strip().upper()
    level = logging.getLevelName(name) if name else DEFAULT_LEVEL
    if not isinstance(level, int):
        level = DEFAULT_LEVEL
    return max(logging.DEBUG, level - 10 * max(0, verbosity))


def log_file() -> Path:
    """The current log file."""
    return log_folder() / LOG_FILENAME


def configure_logging(verbosity: int = 0) -> Path | None:
    """Send the program's records to the rotating log file (and to stderr with `-v`); the file's path.

    Calling it again replaces the handlers it added before. When the log folder cannot be written the
    program still runs, without a file (None), and says so once on stderr.
    """
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if getattr(h, "kyphoangle_handler", False)]:
        logger.removeHandler(handler)
        handler.close()
    level = log_level(verbosity)
    logger.setLevel(level)
    logger.propagate = False
    formatter = ScrubbingFormatter(_FORMAT)
    path: Path | None = log_file()
    try:
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_FILE_MAX_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8", delay=True
        )
    except OSError as exc:
        print(
            f"kyphoangle: warning: no log file ({path.parent if path else ''}: {exc.strerror})",
            file=sys.stderr,
        )
        path = None
        file_handler = logging.NullHandler()
    handlers = [file_handler]
    if verbosity > 0:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.kyphoangle_handler = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    return path


def get_logger(name: str) -> logging.Logger:
    """The logger of a module (`get_logger(__name__)`), under the program's root logger."""
    return logging.getLogger(name if name.startswith(LOGGER_NAME) else f"{LOGGER_NAME}.{name}")
