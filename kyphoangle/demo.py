"""The built-in demo study: synthetic lateral films of fictitious kyphoplasty patients, with ground truth.

Every patient is invented (names `DEMO^...`, IDs `DEMO-001`, "Demo Hospital A/B"); every film is drawn
by `kyphoangle.phantom`, so its exact landmarks are known and written beside it as a `truth` landmark
file. Run `python -m kyphoangle.demo OUTDIR` to write it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydicom import dcmread, uid
from pydicom.fileset import FileSet
from pydicom.uid import UID, generate_uid

from kyphoangle.dicom.radiograph import PatientIdentity, VoiPreset
from kyphoangle.dicom.writer import write_radiograph
from kyphoangle.errors import KyphoangleError
from kyphoangle.geometry import Facing
from kyphoangle.landmark_file import LandmarkFile, write_landmark_file
from kyphoangle.phantom import BITS_STORED, MAX_PIXEL_VALUE, Fracture, SpineModel, landmarks, render
from kyphoangle.vocabulary import FRACTURE_LEVELS, Diagnosis, ReadType, SpacingSource, Vertebra

TRUTH_READER = "truth"
"""Reader name of the ground-truth landmark files."""
MANIFEST_NAME = "demo_study.json"
"""File in the demo folder listing its patients and films."""


class DemoFolderError(KyphoangleError):
    """The demo study cannot be written where asked."""


@dataclass(frozen=True, slots=True)
class Visit:
    """A protocol visit: its label and its day relative to the procedure (D0)."""

    label: str
    day: int


VISITS: tuple[Visit, ...] = (
    Visit("D-5", -5),
    Visit("D3", 3),
    Visit("D15", 15),
    Visit("D90", 90),
    Visit("D180", 180),
    Visit("D360", 360),
)
"""The demo's visit of each protocol window: baseline (D-8..D-1), D2-D5, D15, D90, D180, D360."""


@dataclass(frozen=True, slots=True)
class FilmSize:
    """Matrix and (square) pixel size, at the patient, of the demo films."""

    rows: int
    columns: int
    spacing_mm: float


DEFAULT_FILM = FilmSize(2000, 1000, 0.25)
"""Modest films (500 x 250 mm field), quick to write and to open."""
FULL_FILM = FilmSize(4000, 2000, 0.125)
"""Full-size films of a long-cassette detector."""

ENCODINGS: tuple[UID, ...] = (
    uid.ExplicitVRLittleEndian,
    uid.JPEGLSLossless,
    uid.JPEG2000Lossless,
    uid.RLELossless,
    uid.DeflatedExplicitVRLittleEndian,
    uid.JPEGLosslessSV1,
)
"""Transfer syntaxes of the demo films (all lossless)."""
_ENCODING_CYCLE: tuple[UID, ...] = (*ENCODINGS, *ENCODINGS[:2], ENCODINGS[3], ENCODINGS[5], ENCODINGS[0])
"""The order films take them in: the slow encoders (JPEG 2000, deflate) less often."""


@dataclass(frozen=True, slots=True)
class _Site:
    code: str
    institution: str
    modality: str
    photometric: str
    ermf: float | None
    station: str


_SITES = (
    _Site("A", "Demo Hospital A", "DX", "MONOCHROME2", None, "DEMO-DR-A1"),
    _Site("B", "Demo Hospital B", "CR", "MONOCHROME1", 1.12, "DEMO-CR-B2"),
)
"""Site A has a DR room writing calibrated Pixel Spacing; site B a CR reader writing MONOCHROME1 films
with only Imager Pixel Spacing and the Estimated Radiographic Magnification Factor."""


@dataclass(frozen=True, slots=True)
class DemoSubject:
    """One fictitious patient of the demo study."""

    code: str
    patient_id: str
    patient_name: str
    sex: str
    birth_date: dt.date
    site: str
    institution: str
    diagnosis: Diagnosis
    procedure_date: dt.date
    fractured_levels: tuple[str, ...]
    visits: tuple[str, ...]
    """Labels of the visits that have a film (a late one may be missing)."""


@dataclass(frozen=True, slots=True)
class DemoFilm:
    """One written film and where its ground truth is."""

    path: Path
    subject: str
    patient_id: str
    visit: str
    day: int
    study_date: dt.date
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    encoding: str
    photometric: str
    spacing_source: SpacingSource
    truth_path: Path
    model: SpineModel
    """The phantom drawn: `kyphoangle.phantom.designed_angle_deg(model, ...)` gives expected angles."""


@dataclass(frozen=True, slots=True)
class DemoStudy:
    """What `generate_demo_films` wrote: the patients and their films."""

    folder: Path
    subjects: tuple[DemoSubject, ...]
    films: tuple[DemoFilm, ...]
    film_size: FilmSize
    dicomdir: Path | None = None

    def films_of(self, subject: str) -> tuple[DemoFilm, ...]:
        """The films of one subject (by code or patient ID), in visit order."""
        return tuple(f for f in self.films if subject in (f.subject, f.patient_id))

    def to_document(self) -> dict[str, Any]:
        """JSON-ready summary, paths relative to the folder (written as `demo_study.json`)."""
        return {
            "format": "kyphoangle.demo_study/1",
            "film_size": {
                "rows": self.film_size.rows,
                "columns": self.film_size.columns,
                "spacing_mm": self.film_size.spacing_mm,
            },
            "dicomdir": self.dicomdir.name if self.dicomdir else None,
            "subjects": [
                {
                    "code": s.code,
                    "patient_id": s.patient_id,
                    "patient_name": s.patient_name,
                    "site": s.site,
                    "institution": s.institution,
                    "diagnosis": str(s.diagnosis),
                    "procedure_date": s.procedure_date.isoformat(),
                    "fractured_levels": list(s.fractured_levels),
                    "visits": list(s.visits),
                }
                for s in self.subjects
            ],
            "films": [
                {
                    "path": f.path.relative_to(self.folder).as_posix(),
                    "truth": f.truth_path.relative_to(self.folder).as_posix(),
                    "subject": f.subject,
                    "patient_id": f.patient_id,
                    "visit": f.visit,
                    "day": f.day,
                    "study_date": f.study_date.isoformat(),
                    "sop_instance_uid": f.sop_instance_uid,
                    "study_instance_uid": f.study_instance_uid,
                    "encoding": f.encoding,
                    "transfer_syntax": f.transfer_syntax,
                    "photometric": f.photometric,
                    "spacing_source": str(f.spacing_source),
                }
                for f in self.films
            ],
        }


@dataclass(frozen=True, slots=True)
class _Patient:
    subject: DemoSubject
    base: SpineModel
    baseline: tuple[Fracture, ...]
    restoration: tuple[float, ...]
    """Fraction of each baseline height loss that is left just after kyphoplasty."""


_NAMES = (
    ("ALICE", "F"), ("BERNARD", "M"), ("CLAIRE", "F"), ("DANIEL", "M"), ("EMMA", "F"), ("FRANCOIS", "M"),
    ("GISELE", "F"), ("HENRI", "M"), ("IRENE", "F"), ("JULES", "M"), ("KAREN", "F"), ("LOUIS", "M"),
)  # fmt: skip
_FIRST_LEVELS: tuple[tuple[str, ...], ...] = (("L1",), ("T12", "L2"), ("L3",), ("T10",))
_LOSS_OF_CORRECTION = {"D3": 0.0, "D15": 0.1, "D90": 0.2, "D180": 0.25, "D360": 0.3}
"""Share of the height regained at kyphoplasty that is lost again by each visit."""


def _patients(count: int, rng: np.random.Generator) -> list[_Patient]:
    patients = []
    for index in range(count):
        name, sex = _NAMES[index % len(_NAMES)]
        site = _SITES[index % len(_SITES)]
        if index < len(_FIRST_LEVELS):
            levels = _FIRST_LEVELS[index]
        else:
            picked = rng.choice(len(FRACTURE_LEVELS), size=int(rng.integers(1, 3)), replace=False)
            levels = tuple(FRACTURE_LEVELS[i] for i in sorted(picked))
        diagnosis = Diagnosis.MYELOMA if index % 4 in (0, 3) else Diagnosis.METASTASIS
        procedure = dt.date(2024, 3, 18) + dt.timedelta(days=int(37 * index + rng.integers(0, 20)))
        birth = dt.date(int(rng.integers(1942, 1962)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        visits = tuple(v.label for v in VISITS if not (index == 1 and v.label == "D360"))
        subject = DemoSubject(
            code=f"S{index + 1:02d}",
            patient_id=f"DEMO-{index + 1:03d}",
            patient_name=f"DEMO^{name}",
            sex=sex,
            birth_date=birth,
            site=site.code,
            institution=site.institution,
            diagnosis=diagnosis,
            procedure_date=procedure,
            fractured_levels=levels,
            visits=visits,
        )
        baseline = []
        for level in levels:
            anterior = float(rng.uniform(30.0, 48.0))
            baseline.append(
                Fracture(
                    Vertebra(level),
                    anterior_loss_pct=anterior,
                    middle_loss_pct=anterior * float(rng.uniform(0.7, 0.95)),
                    posterior_loss_pct=float(rng.uniform(0.0, 8.0)),
                )
            )
        base = SpineModel(
            thoracic_kyphosis_deg=float(rng.uniform(32.0, 50.0)),
            lumbar_lordosis_deg=float(rng.uniform(-60.0, -42.0)),
            facing=Facing.RIGHT if index % 3 != 1 else Facing.LEFT,
            rotation_deg=float(rng.uniform(-3.0, 3.0)),
            size_factor=float(rng.uniform(0.93, 1.06)),
            bone_density=0.8 if diagnosis is Diagnosis.MYELOMA else 0.95,
            anatomy_seed=int(rng.integers(1 << 30)),
            side_marker="L",
        )
        restoration = tuple(float(rng.uniform(0.4, 0.6)) for _ in levels)
        patients.append(_Patient(subject, base, tuple(baseline), restoration))
    return patients


def _visit_model(patient: _Patient, visit: Visit, rng: np.random.Generator) -> SpineModel:
    """The patient on the day of a visit: fracture state, posture and positioning of that day."""
    fractures = []
    for fracture, left in zip(patient.baseline, patient.restoration, strict=True):
        if visit.day < 0:
            fractures.append(fracture)
            continue
        share = left + (1.0 - left) * _LOSS_OF_CORRECTION[visit.label]
        fractures.append(
            replace(
                fracture,
                anterior_loss_pct=fracture.anterior_loss_pct * share,
                middle_loss_pct=fracture.middle_loss_pct * share,
                posterior_loss_pct=fracture.posterior_loss_pct * share,
                cemented=True,
            )
        )
    base = patient.base
    return replace(
        base,
        fractures=tuple(fractures),
        thoracic_kyphosis_deg=base.thoracic_kyphosis_deg + float(rng.uniform(-2.0, 2.0)),
        lumbar_lordosis_deg=base.lumbar_lordosis_deg + float(rng.uniform(-3.0, 3.0)),
        rotation_deg=base.rotation_deg + float(rng.uniform(-1.5, 1.5)),
        offset_mm=(float(rng.uniform(-6.0, 6.0)), float(rng.uniform(-10.0, 10.0))),
    )


def _uid(seed: int, *parts: str) -> str:
    return str(generate_uid(entropy_srcs=["kyphoangle-demo", str(seed), *parts]))


def _age(birth: dt.date, on: dt.date) -> str:
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return f"{years:03d}Y"


def _check_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise DemoFolderError(f"{folder} is a file, not a folder")
    if folder.exists() and any(folder.iterdir()):
        raise DemoFolderError(f"{folder} is not empty: choose a new or empty folder for the demo study")


def generate_demo_films(
    folder: str | Path,
    *,
    subjects: int = 4,
    seed: int = 2024,
    film_size: FilmSize = DEFAULT_FILM,
    dicomdir: bool = False,
) -> DemoStudy:
    """Write the demo study into `folder` (new or empty): DICOM films, truth landmarks, a manifest.

    Each subject has a film at every visit of `VISITS` (the second subject misses D360): wedge
    fractures at baseline, height partly restored and cemented from D3, slight loss of correction later.
    Films are `<patient ID>/<visit>.dcm`, or a DICOMDIR file set (`PT.../ST.../SE.../IM...`) with
    `dicomdir`; truth files are `truth/<patient ID>_<visit>.json`. The same arguments give the same
    files, UIDs included.
    """
    if not 1 <= subjects <= len(_NAMES):
        raise ValueError(f"subjects must be between 1 and {len(_NAMES)}")
    root = Path(folder)
    _check_folder(root)
    root.mkdir(parents=True, exist_ok=True)
    truth_folder = root / "truth"
    truth_folder.mkdir()
    rng = np.random.default_rng(seed)
    patients = _patients(subjects, rng)
    # Models are drawn from `rng` in a fixed order; films are then rendered and encoded in parallel.
    plans = [
        (patient, visit, _visit_model(patient, visit, rng))
        for patient in patients
        for visit in VISITS
        if visit.label in patient.subject.visits
    ]
    with ExitStack() as stack:
        # A DICOMDIR file set is written from staged copies, in the PT/ST/SE/IM layout pydicom imposes.
        staging = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=root))) if dicomdir else None

        def write(number: int) -> DemoFilm:
            patient, visit, model = plans[number]
            folder = staging or root
            return _write_film(patient, visit, model, number, folder, truth_folder, film_size, seed)

        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            films = list(pool.map(write, range(len(plans))))
        if staging is not None:
            films = _file_set(root, films)
    index = root / "DICOMDIR" if dicomdir else None
    study = DemoStudy(root, tuple(p.subject for p in patients), tuple(films), film_size, index)
    (root / MANIFEST_NAME).write_text(json.dumps(study.to_document(), indent=2) + "\n", encoding="utf-8")
    return study


def _write_film(
    patient: _Patient,
    visit: Visit,
    model: SpineModel,
    number: int,
    folder: Path,
    truth_folder: Path,
    size: FilmSize,
    seed: int,
) -> DemoFilm:
    subject = patient.subject
    site = next(s for s in _SITES if s.code == subject.site)
    spacing = (size.spacing_mm, size.spacing_mm)
    pixels = render(model, rows=size.rows, columns=size.columns, spacing_mm=spacing, seed=seed + number)
    photometric = site.photometric
    window = VoiPreset(2100.0, 3600.0, "SPINE")
    if photometric == "MONOCHROME1":
        pixels = (MAX_PIXEL_VALUE - pixels).astype(np.uint16)
        window = VoiPreset(MAX_PIXEL_VALUE - window.center, window.width, window.explanation)
    if site.ermf is None:
        calibration: dict[str, Any] = {"pixel_spacing_mm": spacing}
        source = SpacingSource.PIXEL_SPACING
    else:
        detector = round(size.spacing_mm * site.ermf, 6)
        calibration = {"imager_pixel_spacing_mm": (detector, detector), "ermf": site.ermf}
        source = SpacingSource.IMAGER_PIXEL_SPACING_ERMF
    study_date = subject.procedure_date + dt.timedelta(days=visit.day)
    study_uid = _uid(seed, subject.patient_id, visit.label, "study")
    series_uid = _uid(seed, subject.patient_id, visit.label, "series")
    sop_uid = _uid(seed, subject.patient_id, visit.label, "image")
    acquired = dt.time(8 + number % 9, (7 * number) % 60, (13 * number) % 60)
    identity = PatientIdentity(
        patient_name=subject.patient_name,
        patient_id=subject.patient_id,
        patient_birth_date=subject.birth_date,
        patient_sex=subject.sex,
        patient_age=_age(subject.birth_date, study_date),
        institution_name=site.institution,
        institution_address=f"{site.code} Demo Street, Demo City",
        station_name=site.station,
        accession_number=f"DEMO{number + 1:06d}",
        study_id=f"{number + 1}",
        referring_physician_name="DEMO^REFERRER",
        study_description="XR THORACOLUMBAR SPINE LATERAL",
        series_description="LAT STANDING",
        study_date=study_date,
        study_time=acquired,
        series_date=study_date,
        series_time=acquired,
        acquisition_date=study_date,
        acquisition_time=acquired,
        content_date=study_date,
        content_time=acquired,
    )
    syntax = _ENCODING_CYCLE[number % len(_ENCODING_CYCLE)]
    path = folder / subject.patient_id / f"{visit.label}.dcm"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_radiograph(
        path,
        pixels,
        transfer_syntax=syntax,
        photometric=photometric,
        bits_stored=BITS_STORED,
        modality=site.modality,
        voi_presets=(window,),
        identity=identity,
        study_instance_uid=study_uid,
        series_instance_uid=series_uid,
        sop_instance_uid=sop_uid,
        study_date=study_date,
        patient_orientation=("A" if model.facing is Facing.RIGHT else "P", "F"),
        **calibration,
    )
    truth_path = truth_folder / f"{subject.patient_id}_{visit.label}.json"
    points = landmarks(model, rows=size.rows, columns=size.columns, spacing_mm=spacing)
    inside = {
        key: point
        for key, point in points.items()
        if 0.0 <= point[0] <= size.columns and 0.0 <= point[1] <= size.rows
    }
    write_landmark_file(
        truth_path,
        LandmarkFile(
            sop_instance_uid=sop_uid,
            points=inside,
            reader=TRUTH_READER,
            read_type=ReadType.CENTRAL,
            fractured_levels=subject.fractured_levels,
        ),
    )
    return DemoFilm(
        path=path,
        subject=subject.code,
        patient_id=subject.patient_id,
        visit=visit.label,
        day=visit.day,
        study_date=study_date,
        study_instance_uid=study_uid,
        series_instance_uid=series_uid,
        sop_instance_uid=sop_uid,
        transfer_syntax=str(syntax),
        encoding=syntax.name,
        photometric=photometric,
        spacing_source=source,
        truth_path=truth_path,
        model=model,
    )


def _file_set(root: Path, films: Sequence[DemoFilm]) -> list[DemoFilm]:
    """Copy the staged films into a DICOMDIR file set in `root`; return the films with their new paths."""
    file_set = FileSet()
    file_set.ID = "KYPHODEMO"
    for film in films:
        file_set.add(film.path)
    file_set.write(root)
    written = {
        str(instance.SOPInstanceUID): Path(instance.path) for instance in FileSet(dcmread(root / "DICOMDIR"))
    }
    return [replace(film, path=written[film.sop_instance_uid]) for film in films]


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m kyphoangle.demo OUTDIR`: write the demo study and say what was written."""
    parser = argparse.ArgumentParser(
        prog="python -m kyphoangle.demo",
        description="Write the built-in demo study (synthetic lateral spine films of fictitious patients,"
        " with ground-truth landmark files) into OUTDIR, which must be new or empty.",
    )
    parser.add_argument("outdir", type=Path, help="folder to create")
    parser.add_argument("--subjects", type=int, default=4, help="number of patients (1-12, default 4)")
    parser.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    parser.add_argument(
        "--full-size", action="store_true", help="4000 x 2000 films at 0.125 mm (default 2000 x 1000 at 0.25)"
    )
    parser.add_argument("--dicomdir", action="store_true", help="write a DICOMDIR file set, as on a CD")
    args = parser.parse_args(argv)
    if not 1 <= args.subjects <= len(_NAMES):
        parser.error(f"--subjects must be between 1 and {len(_NAMES)}")
    started = time.perf_counter()
    try:
        study = generate_demo_films(
            args.outdir,
            subjects=args.subjects,
            seed=args.seed,
            film_size=FULL_FILM if args.full_size else DEFAULT_FILM,
            dicomdir=args.dicomdir,
        )
    except (KyphoangleError, OSError) as exc:
        print(f"kyphoangle.demo: error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(
        f"Wrote {len(study.films)} films of {len(study.subjects)} demo patients to {study.folder}"
        f" in {elapsed:.1f} s; ground truth in {study.folder / 'truth'}, summary in {MANIFEST_NAME}."
    )
    for subject in study.subjects:
        levels = "+".join(subject.fractured_levels)
        print(
            f"  {subject.patient_id} {subject.patient_name:<15} {subject.institution}"
            f"  {subject.diagnosis:<10} {levels:<7} D0 {subject.procedure_date}"
            f"  visits {' '.join(subject.visits)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
