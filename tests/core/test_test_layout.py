"""The tests mirror the house: no test folder shadows a product package, no two test modules share a name."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_test_folder_is_a_package_named_like_the_product() -> None:
    for folder in TESTS.iterdir():
        if folder.is_dir():
            assert not (folder.name in ("app", "kyphoangle") and (folder / "__init__.py").exists()), folder


def test_test_modules_have_unique_names() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
