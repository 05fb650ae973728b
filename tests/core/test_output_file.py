import os
import stat
from pathlib import Path

import pytest

from kyphoangle.errors import OutputFileError
from kyphoangle.output_file import output_binary, output_text, private_folder, write_text


def test_text_is_written_whole_and_private(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    with output_text(target, newline="") as stream:
        stream.write("a,b\r\n1,2\r\n")
    assert target.read_bytes() == b"a,b\r\n1,2\r\n"
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]


def test_failure_inside_leaves_the_previous_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("previous", encoding="utf-8")
    with pytest.raises(RuntimeError), output_text(target) as stream:
        stream.write("half of a new ")
        raise RuntimeError("interrupted")
    assert target.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "x"
    with pytest.raises(OutputFileError, match="the folder does not exist"), output_binary(missing):
        pass


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    with pytest.raises(OutputFileError, match="permission denied"):
        write_text(folder / "x.csv", "x")


def test_dash_is_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    write_text("-", "to stdout\n")
    assert capsys.readouterr().out == "to stdout\n"


def test_private_folder_is_owner_only(tmp_path: Path) -> None:
    folder = private_folder(tmp_path / "data" / "kyphoangle")
    assert folder.is_dir()
    if os.name == "posix":
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
