"""A real Orthanc PACS for the tests: Debian's `orthanc` with its DICOMweb plugin, on 127.0.0.1.

Each server gets free ports, a temporary storage folder and a configuration that knows kyphoangle's
AE title (for C-MOVE to our Storage SCP). Missing packages fail the tests loudly: scripts/setup.sh
installs `orthanc` and `orthanc-dicomweb`.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
AE_TITLE = "ORTHANC"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OrthancServer:
    """A running Orthanc."""

    http_port: int
    dicom_port: int
    process: subprocess.Popen[bytes]
    folder: Path

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.rest}/dicom-web"

    def get_json(self, path: str) -> object:
        with urllib.request.urlopen(f"{self.rest}{path}", timeout=10) as response:
            return json.loads(response.read())

    def get_bytes(self, path: str) -> bytes:
        with urllib.request.urlopen(f"{self.rest}{path}", timeout=30) as response:
            return bytes(response.read())

    def upload(self, path: Path) -> None:
        request = urllib.request.Request(f"{self.rest}/instances", data=path.read_bytes(), method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200

    def hold_only(self, folder: Path) -> None:
        """Empty the server, then upload every DICOM file below `folder` (in name order)."""
        self.clear()
        for path in sorted(folder.rglob("*.dcm")):
            self.upload(path)

    def clear(self) -> None:
        for patient in self.get_json("/patients"):  # type: ignore[attr-defined]
            request = urllib.request.Request(f"{self.rest}/patients/{patient}", method="DELETE")
            urllib.request.urlopen(request, timeout=10).close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_orthanc(
    folder: Path, *, our_port: int, our_ae: str = "KYPHOANGLE", extra: dict[str, object] | None = None
) -> OrthancServer:
    """Start Orthanc with its storage in `folder`; fails the test when it does not come up."""
    if not Path(ORTHANC).exists() or not DICOMWEB_PLUGIN.exists():
        pytest.fail(
            "Orthanc or its DICOMweb plugin is missing: install the Debian packages orthanc and "
            "orthanc-dicomweb (scripts/setup.sh does)",
            pytrace=False,
        )
    http_port, dicom_port = free_port(), free_port()
    storage = folder / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    config = {
        "Name": "kyphoangle-test",
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "HttpPort": http_port,
        "HttpBindAddress": "127.0.0.1",
        "DicomPort": dicom_port,
        "DicomAet": AE_TITLE,
        "DicomCheckCalledAet": True,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "DicomCheckModalityHost": False,
        "UnknownSopClassAccepted": True,
        "DicomModalities": {"kyphoangle": [our_ae, "127.0.0.1", our_port]},
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        **(extra or {}),
    }
    path = folder / "orthanc.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    log = (folder / "orthanc.log").open("wb")
    process = subprocess.Popen([ORTHANC, str(path)], stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    server = OrthancServer(http_port, dicom_port, process, folder)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log_text = (folder / "orthanc.log").read_text()[-2000:]
            pytest.fail(f"Orthanc stopped at start: {log_text}", pytrace=False)
        try:
            server.get_json("/system")
            with socket.create_connection(("127.0.0.1", dicom_port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    pytest.fail("Orthanc did not start within 30 s", pytrace=False)


def instance_file(server: OrthancServer, sop_instance_uid: str) -> bytes | None:
    """The stored file of an instance (looked up by SOP Instance UID through the REST API), or None."""
    request = urllib.request.Request(
        f"{server.rest}/tools/lookup", data=sop_instance_uid.encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        hits = [hit for hit in json.loads(response.read()) if hit.get("Type") == "Instance"]
    if not hits:
        return None
    return server.get_bytes(f"/instances/{hits[0]['ID']}/file")


def study_id(server: OrthancServer, study_uid: str) -> str:
    """Orthanc's own identifier of a study."""
    for study in server.get_json("/studies?expand"):  # type: ignore[attr-defined]
        if study["MainDicomTags"]["StudyInstanceUID"] == study_uid:
            return str(study["ID"])
    raise AssertionError(f"Orthanc has no study {study_uid}")


def send_to_modality(server: OrthancServer, modality: str, resource_id: str) -> None:
    """Ask Orthanc to C-STORE a resource to one of its configured modalities."""
    request = urllib.request.Request(
        f"{server.rest}/modalities/{modality}/store", data=resource_id.encode(), method="POST"
    )
    urllib.request.urlopen(request, timeout=60).close()
