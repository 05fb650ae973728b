"""Where the data files shipped with the program live (normal tables, schedules, icons)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The `resources/` folder: from the source tree, or from a frozen (PyInstaller) bundle."""
    override = os.environ.get("KYPHOANGLE_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Path of one shipped data file, e.g. `resource_path("normal_tables", "farcy-1990.json")`."""
    return resources_dir().joinpath(*parts)
