"""The PyInstaller spec's branches for Linux, Windows and macOS, checked without building: the spec runs
with PyInstaller's build classes replaced by recorders, once per system."""

from __future__ import annotations

import shutil
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "build_installer.spec"
SYSTEM_LIBRARY = Path(sys.executable).resolve()
"""A real ELF executable, standing for a library the spec strips."""


@dataclass
class Recorded:
    """One build step the spec asked for: its kind, positional and keyword arguments."""

    kind: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    binaries: list[tuple[str, str, str]] = field(default_factory=list)
    datas: list[tuple[str, str, str]] = field(default_factory=list)
    pure: list[Any] = field(default_factory=list)
    scripts: list[Any] = field(default_factory=list)


def _run_spec(monkeypatch: pytest.MonkeyPatch, platform: str, workpath: Path) -> list[Recorded]:
    steps, _ = _exec_spec(monkeypatch, platform, workpath)
    return steps


def _exec_spec(
    monkeypatch: pytest.MonkeyPatch, platform: str, workpath: Path
) -> tuple[list[Recorded], dict[str, Any]]:
    """The build steps the spec asks for, and the spec's names once it has run."""
    import PyInstaller.depend.bindepend as bindepend
    import PyInstaller.utils.hooks as hooks

    wheel = workpath / "site-packages" / "numpy.libs" / "libwheel-example.so"
    wheel.parent.mkdir(parents=True)
    shutil.copy2(SYSTEM_LIBRARY, wheel)

    steps: list[Recorded] = []

    def recorder(kind: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> Recorded:
            step = Recorded(kind, args, kwargs)
            if kind == "Analysis":
                step.binaries = [
                    ("PySide6/Qt/lib/libQt6Widgets.so.6", "/x", "BINARY"),
                    ("PySide6/Qt/lib/libQt6Quick.so.6", "/x", "BINARY"),
                    ("PySide6\\Qt6Network.dll", "/x", "BINARY"),
                    ("PySide6/Qt/lib/QtPdf.framework/QtPdf", "/x", "BINARY"),
                    ("PySide6/Qt/plugins/platforms/libqxcb.so", "/x", "BINARY"),
                    ("PySide6/Qt/plugins/tls/libqopensslbackend.so", "/x", "BINARY"),
                    ("libsystem-example.so", str(SYSTEM_LIBRARY), "BINARY"),
                    ("numpy.libs/libwheel-example.so", str(wheel), "BINARY"),
                    # needed by nothing left (a library of a plugin the spec drops): left out on Linux
                    ("libgtk-example.so", str(SYSTEM_LIBRARY), "BINARY"),
                    ("libpython3.11.so.1.0", str(SYSTEM_LIBRARY), "BINARY"),
                ]
                step.datas = [
                    ("kyphoangle/resources/visit_schedule.json", "/x", "DATA"),
                    ("PySide6/Qt/translations/qt_de.qm", "/x", "DATA"),
                    ("matplotlib/mpl-data/sample_data/goog.npz", "/x", "DATA"),
                ]
            steps.append(step)
            return step

        return record

    monkeypatch.setattr(hooks, "collect_submodules", lambda name, **_: [name])
    monkeypatch.setattr(
        hooks, "copy_metadata", lambda name, **_: [(f"{name}.dist-info", f"{name}.dist-info")]
    )
    monkeypatch.setattr(
        hooks,
        "collect_data_files",
        lambda name, include_py_files=False, **_: [(name.replace(".", "/"), name.replace(".", "/"))],
    )
    # what each library needs, as ldd tells: every library in a package folder needs the system one
    monkeypatch.setattr(
        bindepend, "get_imports", lambda source, **_: {("libsystem-example.so", str(SYSTEM_LIBRARY))}
    )
    monkeypatch.setattr(sys, "platform", platform)
    names = {kind: recorder(kind) for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    namespace = {"SPECPATH": str(ROOT), "workpath": str(workpath), "__name__": "__main__", **names}
    exec(compile(SPEC.read_text(), str(SPEC), "exec"), namespace)
    return steps, namespace


def _of(steps: list[Recorded], kind: str) -> list[Recorded]:
    return [step for step in steps if step.kind == kind]


def test_linux_gets_one_program_without_icon(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    steps = _run_spec(monkeypatch, "linux", tmp_path)
    (exe,) = _of(steps, "EXE")
    assert exe.kwargs["name"] == "kyphoangle" and exe.kwargs["console"] is True
    assert exe.kwargs["icon"] is None and exe.kwargs["strip"] is False  # stripped, OpenBLAS fails to load
    assert _of(steps, "BUNDLE") == []
    (analysis,) = _of(steps, "Analysis")
    assert [b[0] for b in analysis.binaries] == [
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "libsystem-example.so",
        "numpy.libs/libwheel-example.so",
        "libpython3.11.so.1.0",
    ]
    assert analysis.binaries[0][1] == "/x"  # not a file: left as it is
    for index, name in ((2, "libsystem-example.so"), (3, "numpy.libs/libwheel-example.so")):
        stripped = Path(analysis.binaries[index][1])
        assert stripped == tmp_path / "stripped" / name
        assert 0 < stripped.stat().st_size <= SYSTEM_LIBRARY.stat().st_size
    assert [d[0] for d in analysis.datas] == ["kyphoangle/resources/visit_schedule.json"]
    datas = analysis.kwargs["datas"]
    assert ("kyphoangle/resources", "kyphoangle/resources") in datas
    assert ("kyphoangle/storage/migrations", "kyphoangle/storage/migrations") in datas
    assert "psycopg" in analysis.kwargs["hiddenimports"] and "psycopg2" in analysis.kwargs["excludes"]
    assert analysis.args[0] == [str(ROOT / "app" / "entry.py")]


def test_a_library_whose_segments_strip_misaligned_is_not_loadable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, spec = _exec_spec(monkeypatch, "linux", tmp_path)
    library = tmp_path / "libexample.so"
    data = bytearray(SYSTEM_LIBRARY.read_bytes())
    library.write_bytes(data)
    assert spec["_loadable"](library)
    (table,) = struct.unpack_from("<Q", data, 0x20)
    entry_size, entries = struct.unpack_from("<HH", data, 0x36)
    loads = [
        table + i * entry_size
        for i in range(entries)
        if struct.unpack_from("<I", data, table + i * entry_size)[0] == 1
    ]
    (offset,) = struct.unpack_from("<Q", data, loads[-1] + 8)
    struct.pack_into(
        "<Q", data, loads[-1] + 8, offset + 8
    )  # the segment's file offset moved, not its address
    library.write_bytes(data)
    assert not spec["_loadable"](library)
    (tmp_path / "text.so").write_text("not a library")
    assert not spec["_loadable"](tmp_path / "text.so")


def test_windows_gets_a_console_cli_and_a_windowed_workstation_with_the_icon(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    steps = _run_spec(monkeypatch, "win32", tmp_path)
    cli, workstation = _of(steps, "EXE")
    assert (cli.kwargs["name"], cli.kwargs["console"]) == ("kyphoangle", True)
    assert (workstation.kwargs["name"], workstation.kwargs["console"]) == ("kyphoangle-workstation", False)
    for exe in (cli, workstation):
        assert Path(exe.kwargs["icon"]).suffix == ".ico" and Path(exe.kwargs["icon"]).is_file()
        assert exe.kwargs["strip"] is False
    (collect,) = _of(steps, "COLLECT")
    assert collect.args[:2] == (cli, workstation)
    assert _of(steps, "BUNDLE") == []


def test_macos_gets_an_application_bundle_with_the_icon(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    steps = _run_spec(monkeypatch, "darwin", tmp_path)
    cli, workstation = _of(steps, "EXE")
    assert workstation.kwargs["console"] is False and cli.kwargs["console"] is True
    assert workstation.kwargs["strip"] is False and cli.kwargs["strip"] is False
    (collect,) = _of(steps, "COLLECT")
    assert collect.args[:2] == (workstation, cli)  # the bundle starts its first program: the workstation
    (bundle,) = _of(steps, "BUNDLE")
    assert bundle.kwargs["name"] == "kyphoangle.app"
    assert Path(bundle.kwargs["icon"]).suffix == ".icns" and Path(bundle.kwargs["icon"]).is_file()
    assert bundle.kwargs["bundle_identifier"] == "org.kyphoangle.workstation"
    (analysis,) = _of(steps, "Analysis")
    assert "PySide6/Qt/lib/QtPdf.framework/QtPdf" not in [b[0] for b in analysis.binaries]


def test_the_spec_assumes_no_linux_paths() -> None:
    code = "\n".join(line.split("#", 1)[0] for line in SPEC.read_text().splitlines())
    for linux_only in ("/usr/", "/lib/", ".so", "xvfb", "/tmp", "_MEIPASS"):
        assert linux_only not in code, linux_only
