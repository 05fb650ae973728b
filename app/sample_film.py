"""Synthetic lateral spine films (the core's phantom) written as DICOM: for the self-check and tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from kyphoangle import phantom
from kyphoangle.vocabulary import Vertebra

DX_FOR_PRESENTATION = UID("1.2.840.10008.5.1.4.1.1.1.1")
"""Digital X-Ray Image Storage - For Presentation."""


@dataclass(frozen=True, slots=True)
class SampleFilm:
    """A written film and its exact landmarks `(column, row)`."""

    path: Path
    sop_instance_uid: str
    truth: dict[str, tuple[float, float]]
    rows: int
    columns: int
    spacing_mm: tuple[float, float]


def write_sample_film(
    path: str | Path,
    *,
    rows: int = 1600,
    columns: int = 800,
    spacing_mm: tuple[float, float] = (0.375, 0.375),
    fractured: tuple[str, ...] = ("L1",),
    subject: str = "DEMO-001",
    site: str = "Demo site",
    visit: str = "baseline",
    seed: int = 0,
    study_date: dt.date | None = None,
    monochrome1: bool = False,
) -> SampleFilm:
    """Render the phantom with wedge fractures at `fractured` and write it as a DX DICOM file."""
    model = phantom.SpineModel(
        fractures=tuple(phantom.Fracture(Vertebra(level), 30.0, 20.0) for level in fractured),
        anatomy_seed=seed,
    )
    pixels = phantom.render(model, rows=rows, columns=columns, spacing_mm=spacing_mm, seed=seed)
    truth = phantom.landmarks(model, rows=rows, columns=columns, spacing_mm=spacing_mm)
    if monochrome1:
        pixels = phantom.MAX_PIXEL_VALUE - pixels
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DX_FOR_PRESENTATION
    uid = generate_uid()
    meta.MediaStorageSOPInstanceUID = uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    target = Path(path)
    ds = FileDataset(str(target), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = DX_FOR_PRESENTATION
    ds.SOPInstanceUID = uid
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "DX"
    ds.PatientName = "Demo^Patient"
    ds.PatientID = subject
    ds.StudyDate = (study_date or dt.date.today()).strftime("%Y%m%d")
    ds.ViewPosition = "LL"
    ds.PatientOrientation = ["A", "F"] if model.facing.value == "right" else ["P", "F"]
    ds.ClinicalTrialSponsorName = "kyphoangle demo"
    ds.ClinicalTrialProtocolID = "DEMO"
    ds.ClinicalTrialSiteID = site
    ds.ClinicalTrialSiteName = site
    ds.ClinicalTrialSubjectID = subject
    ds.ClinicalTrialTimePointID = visit
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1" if monochrome1 else "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, phantom.BITS_STORED, phantom.BITS_STORED - 1
    ds.PixelRepresentation = 0
    ds.PixelSpacing = [f"{spacing_mm[0]:g}", f"{spacing_mm[1]:g}"]
    ds.WindowCenter = ["2048", "2600"]
    ds.WindowWidth = ["4096", "1800"]
    ds.WindowCenterWidthExplanation = ["Full range", "Bone"]
    ds.PixelData = pixels.tobytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    pydicom.dcmwrite(target, ds, enforce_file_format=True)
    return SampleFilm(target, uid, truth, rows, columns, spacing_mm)
