"""Developer helper: `python -m kyphoangle.storage.migrations revision -m MESSAGE [--db URL]`.

Autogenerates a new revision by comparing the models with a database at the current head (by default
a temporary SQLite file), so no alembic.ini is needed. Review and edit the generated file.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command

from kyphoangle.storage.engine import (
    alembic_config,
    create_database_engine,
    resolve_database_url,
    upgrade_database,
)


def main() -> None:
    """Parse the arguments and write the new revision file."""
    parser = argparse.ArgumentParser(prog="python -m kyphoangle.storage.migrations")
    parser.add_argument("action", choices=("revision",))
    parser.add_argument("-m", "--message", required=True)
    parser.add_argument("--db", help="database at head to compare with (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = resolve_database_url(args.db or str(Path(folder) / "head.sqlite3"))
        engine = create_database_engine(url)
        upgrade_database(engine)
        config = alembic_config()
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.revision(config, message=args.message, autogenerate=True)
        engine.dispose()


if __name__ == "__main__":
    main()
