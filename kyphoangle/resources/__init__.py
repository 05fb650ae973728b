"""The data files shipped inside the package: normal tables, visit schedule, data dictionary.

They live in this package (`kyphoangle/resources/`) and are found with `importlib.resources`, so the same
lookup works from a wheel, an sdist, an editable install, a PyInstaller bundle and a plain checkout.
`KYPHOANGLE_RESOURCES` names another folder of the same layout (a study's own tables, for testing them).
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

ENV_RESOURCES = "KYPHOANGLE_RESOURCES"
"""Environment variable naming a folder to read instead of the shipped data files."""


def package_folder(package: str) -> Path:
    """The folder on disk of an installed package's files (`importlib.resources`), e.g. the migrations.

    Every supported install (wheel, sdist, editable, PyInstaller bundle, checkout) unpacks the package
    to real files; a zipped install would not, and is refused with a clear error rather than misread.
    """
    root = files(package)
    path = Path(str(root))
    if not path.is_dir():
        raise FileNotFoundError(
            f"the files of {package} are not in a folder on disk ({root}); reinstall kyphoangle"
        )
    return path


def resources_dir() -> Path:
    """The folder of the shipped data files (or the one `KYPHOANGLE_RESOURCES` names)."""
    override = os.environ.get(ENV_RESOURCES)
    if override:
        return Path(override)
    return package_folder(__name__)


def resource_path(*parts: str) -> Path:
    """Path of one shipped data file, e.g. `resource_path("normal_tables", "farcy-1990.json")`."""
    return resources_dir().joinpath(*parts)
