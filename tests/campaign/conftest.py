"""Fixtures of the campaign tests: the storage tests' databases and users, plus a small campaign study."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_STORAGE_TESTS = Path(__file__).resolve().parents[1] / "storage"
if str(_STORAGE_TESTS) not in sys.path:
    sys.path.insert(0, str(_STORAGE_TESTS))


def _load_storage_fixtures() -> object:
    """The storage tests' conftest under its own module name, so its fixtures can be reused here."""
    name = "storage_fixtures_for_campaign"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _STORAGE_TESTS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_storage = _load_storage_fixtures()
Staff = _storage.Staff  # type: ignore[attr-defined]
backend = _storage.backend  # type: ignore[attr-defined]
db_url = _storage.db_url  # type: ignore[attr-defined]
database = _storage.database  # type: ignore[attr-defined]
staff = _storage.staff  # type: ignore[attr-defined]
sqlite_template = _storage.sqlite_template  # type: ignore[attr-defined]
postgres_server = _storage.postgres_server  # type: ignore[attr-defined]
postgres_template = _storage.postgres_template  # type: ignore[attr-defined]
_cheap_password_hashing = _storage._cheap_password_hashing  # type: ignore[attr-defined]
