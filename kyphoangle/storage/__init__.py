"""The study database: models, engine and sessions, migrations, and one repository module per noun.

Open a database with `open_database` (migrates it on open) and pass the caller's session to the
repository functions in `users`, `subjects`, `images`, `reads`, `audit` and `study`.
"""

from kyphoangle.storage.engine import Database, open_database, resolve_database_url

__all__ = ["Database", "open_database", "resolve_database_url"]
