"""The exit statuses of the `kyphoangle` command, one meaning each (documented in the CLI reference)."""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """What a finished command tells the shell that ran it."""

    OK = 0
    """The command did everything it was asked."""
    INTERNAL_ERROR = 1
    """Something unexpected went wrong inside kyphoangle; the log holds the details."""
    BAD_INPUT = 2
    """The command line, a file or a value was refused; nothing was changed."""
    NOT_PERMITTED = 3
    """The signed-in user's role does not allow the action (the refusal is audited)."""
    PARTLY_DONE = 4
    """Part of the work was done and the rest refused, each refusal with its reason (e.g. skipped files)."""
