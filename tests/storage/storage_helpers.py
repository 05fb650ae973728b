"""Helpers shared by the storage tests: synthetic films, subjects and landmark sets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.spacing import PixelSpacing
from kyphoangle.storage import Database
from kyphoangle.storage.images import ImageFacts, register_image
from kyphoangle.storage.models import User
from kyphoangle.storage.subjects import create_subject, update_subject
from kyphoangle.vocabulary import PatientPosition, SpacingSource

PASSWORD = "correct horse battery"


def facts(uid: str, study_date: dt.date | None = dt.date(2024, 3, 1), **changes: object) -> ImageFacts:
    """Image facts of a synthetic 2000 x 1000 film with 0.15 mm pixels."""
    values: dict[str, object] = {
        "sop_instance_uid": uid,
        "study_instance_uid": f"{uid}.0",
        "series_instance_uid": f"{uid}.1",
        "file_path": f"/films/{uid}.dcm",
        "sha256": "a" * 64,
        "file_size_bytes": 1000,
        "study_date": study_date,
        "rows": 2000,
        "columns": 1000,
        "spacing": PixelSpacing(0.15, 0.15, SpacingSource.PIXEL_SPACING),
        "pixel_aspect_ratio": None,
        "patient_position": PatientPosition.STANDING,
        "view_position": "LL",
    }
    values.update(changes)
    return ImageFacts(**values)  # type: ignore[arg-type]


def add_subject_with_images(
    database: Database,
    manager_id: int,
    *,
    patient_id: str = "PID-1",
    procedure_date: dt.date | None = dt.date(2024, 3, 5),
    study_dates: tuple[dt.date | None, ...] = (dt.date(2024, 3, 1),),
    uid_prefix: str = "1.2.826.0.1.1",
) -> tuple[str, list[str]]:
    """A subject (treated at L1) with one film per study date; returns (study code, SOP UIDs)."""
    uids = []
    with database.transaction() as session:
        manager = session.get_one(User, manager_id)
        subject = create_subject(session, actor=manager, dicom_patient_id=patient_id, patient_name="Doe^Jane")
        if procedure_date is not None:
            update_subject(
                session, subject, actor=manager, procedure_date=procedure_date, treated_levels=["L1"]
            )
        for n, study_date in enumerate(study_dates):
            uid = f"{uid_prefix}.{subject.id}.{n}"
            register_image(session, subject=subject, facts=facts(uid, study_date), actor=manager)
            uids.append(uid)
        code = subject.code
    return code, uids


def vertebra_points(
    levels: tuple[str, ...] = ("T12", "L1", "L2"), wedge_px: float = 20.0
) -> dict[str, tuple[float, float]]:
    """Six points per vertebra for a small synthetic lateral spine (facing right, 0.15 mm pixels)."""
    points: dict[str, tuple[float, float]] = {}
    top = 200.0
    for n, vertebra in enumerate(levels):
        upper, lower = top + n * 200.0, top + n * 200.0 + 150.0
        wedge = wedge_px if vertebra == "L1" else 0.0
        points[f"{vertebra}.superior.posterior"] = (400.0, upper)
        points[f"{vertebra}.superior.middle"] = (500.0, upper + wedge / 2)
        points[f"{vertebra}.superior.anterior"] = (600.0, upper + wedge)
        points[f"{vertebra}.inferior.posterior"] = (400.0, lower)
        points[f"{vertebra}.inferior.middle"] = (500.0, lower)
        points[f"{vertebra}.inferior.anterior"] = (600.0, lower)
    return points


def landmarks(uid: str, reader: str = "site_reader", **changes: object) -> LandmarkFile:
    """A landmark file for film `uid`: L1 fractured, three vertebrae placed."""
    values: dict[str, object] = {
        "sop_instance_uid": uid,
        "points": vertebra_points(),
        "reader": reader,
        "read_type": "site",
        "fractured_levels": ("L1",),
    }
    values.update(changes)
    return LandmarkFile(**values)  # type: ignore[arg-type]


def write_film(
    folder: Path,
    name: str,
    *,
    patient_id: str = "PID-1",
    study_date: dt.date | None = dt.date(2024, 3, 1),
    uid: str | None = None,
    pixel_value: int = 100,
    institution: str = "",
    patient_position: str = "",
) -> Path:
    """A small DX film in `folder` (0.15 mm pixels, 64 x 32) for one patient and study date."""
    from kyphoangle.dicom.radiograph import PatientIdentity
    from kyphoangle.dicom.writer import write_radiograph

    pixels = np.full((64, 32), pixel_value, dtype=np.uint16)
    identity = PatientIdentity(
        patient_name=f"Name^{patient_id}",
        patient_id=patient_id,
        patient_birth_date=dt.date(1950, 1, 2),
        institution_name=institution,
    )
    folder.mkdir(parents=True, exist_ok=True)
    return write_radiograph(
        folder / name,
        pixels,
        pixel_spacing_mm=(0.15, 0.15),
        identity=identity,
        study_date=study_date,
        sop_instance_uid=uid,
        patient_position=patient_position,
    )
