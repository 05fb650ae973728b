"""Where kyphoangle keeps its files on this computer: the data folder and the log folder.

The data folder holds the default SQLite study database, the demo films and the workstation's recovery
files; it is the platform's user data folder (`platformdirs`) unless `--data-dir` or
`KYPHOANGLE_DATA_DIR` names another. Logs go to the platform's user log folder unless
`KYPHOANGLE_LOG_DIR` names another.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA_DIR = "KYPHOANGLE_DATA_DIR"
"""Environment variable naming the data folder (what `--data-dir` sets)."""
ENV_LOG_DIR = "KYPHOANGLE_LOG_DIR"
"""Environment variable naming the log folder."""
APP_NAME = "kyphoangle"


def data_folder() -> Path:
    """The data folder: `KYPHOANGLE_DATA_DIR`, else the platform's user data folder for kyphoangle."""
    override = os.environ.get(ENV_DATA_DIR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_folder() -> Path:
    """The log folder: `KYPHOANGLE_LOG_DIR`, else the platform's user log folder for kyphoangle."""
    override = os.environ.get(ENV_LOG_DIR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
