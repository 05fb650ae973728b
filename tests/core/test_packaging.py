"""The package carries its data files and migrations and finds them with importlib.resources; its
public names load lazily, so `import kyphoangle` stays cheap."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import kyphoangle
from kyphoangle.normal_table import available_normal_tables, load_normal_table
from kyphoangle.resources import ENV_RESOURCES, resource_path, resources_dir
from kyphoangle.storage.engine import alembic_config
from kyphoangle.storage.schedule import load_visit_schedule

PACKAGE = Path(kyphoangle.__file__).resolve().parent


def test_data_files_are_inside_the_package() -> None:
    assert resources_dir() == PACKAGE / "resources"
    assert resource_path("visit_schedule.json").is_file()
    assert resource_path("data_dictionary.csv").is_file()
    assert available_normal_tables() == ["farcy-1990", "kwon-2019", "shi-2020"]
    assert load_normal_table("farcy-1990").normal_deg("L2") == -10.0
    assert next(v.code for v in load_visit_schedule().visits) == "baseline"


def test_migrations_are_found_inside_the_package() -> None:
    location = Path(alembic_config().get_main_option("script_location") or "")
    assert location == PACKAGE / "storage" / "migrations"
    assert (location / "script.py.mako").is_file()
    assert sorted(p.name for p in (location / "versions").glob("0*.py"))[0] == "0001_initial.py"


def test_another_resources_folder_can_be_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "normal_tables").mkdir()
    monkeypatch.setenv(ENV_RESOURCES, str(tmp_path))
    assert resources_dir() == tmp_path
    assert available_normal_tables() == []


def test_the_package_is_marked_typed() -> None:
    assert (PACKAGE / "py.typed").is_file()


def test_every_public_name_resolves_to_a_documented_object() -> None:
    for name in kyphoangle.__all__:
        value = getattr(kyphoangle, name)
        assert value is not None, name
        if name != "__version__":
            assert (value.__doc__ or "").strip(), f"{name} has no docstring"
    assert kyphoangle.load_radiograph is importlib.import_module("kyphoangle.dicom").load_radiograph
    assert kyphoangle.read_landmarks.__name__ == "read_landmark_file"
    assert set(kyphoangle.__all__) <= set(dir(kyphoangle))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        kyphoangle.nothing_here  # noqa: B018


def test_import_kyphoangle_loads_no_heavy_library() -> None:
    code = (
        "import sys, kyphoangle, kyphoangle.cli; "
        "print(sorted(m for m in ('numpy', 'pydicom', 'sqlalchemy', 'scipy', 'matplotlib', 'cv2', 'PySide6')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
