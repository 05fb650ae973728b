"""Print the measurement page of the documentation from the protocol file (`python -m ...document`)."""

from __future__ import annotations

import sys

from kyphoangle.protocol.requirements import measurements_markdown


def main() -> int:
    """Write the page to standard output (redirect it to `docs/measurements.md`)."""
    sys.stdout.write(measurements_markdown() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
