"""The core library never imports Qt (also enforced statically by import-linter in the check script)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import importlib, pkgutil, sys
import kyphoangle
for info in pkgutil.walk_packages(kyphoangle.__path__, "kyphoangle."):
    if ".migrations" in info.name:
        continue
    importlib.import_module(info.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"PySide6", "shiboken6", "app"})
print(",".join(loaded))
"""


def test_importing_every_core_module_loads_no_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
