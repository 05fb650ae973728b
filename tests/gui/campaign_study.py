"""A small blinded-reading campaign on synthetic films whose DICOM identity fields are distinctive.

Every identifying value (name, ID, birth date, sex, institution, study date, accession number, site,
visit label, file names holding the patient ID) is unusual enough that finding it in the GUI's text
can only mean a leak.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from argon2 import PasswordHasher

from app.sample_film import SampleFilm, write_sample_film
from kyphoangle.campaign import create_campaign
from kyphoangle.importer import import_radiographs
from kyphoangle.storage import Database, open_database
from kyphoangle.storage.models import User
from kyphoangle.storage.subjects import find_subject_by_patient_id, get_or_create_site, update_subject
from kyphoangle.storage.users import create_user, get_user, set_password_hasher
from kyphoangle.vocabulary import UserRole
from kyphoangle.workstation.records import Account

PASSWORDS = {"central1": "central-1!", "central2": "central-2!", "adjud": "adjudicate"}
CAMPAIGN = "BLIND-1"
SITE_CODE = "OMBREVALE-SITE"
INSTITUTION = "Hospital Ombrevale Quillane"
VISIT_LABEL = "VisitZed-D90"


@dataclass
class Identity:
    """The identifying values of one synthetic patient."""

    patient_id: str
    patient_name: str
    birth_date: str
    study_date: str
    accession: str

    def forbidden(self) -> list[str]:
        """Every spelling of these values that must never be shown."""
        family, given = self.patient_name.split("^")
        born = dt.datetime.strptime(self.birth_date, "%Y%m%d").date()
        studied = dt.datetime.strptime(self.study_date, "%Y%m%d").date()
        return [
            self.patient_id,
            self.patient_name,
            family,
            given,
            self.birth_date,
            born.isoformat(),
            born.strftime("%d.%m.%Y"),
            born.strftime("%d/%m/%Y"),
            self.study_date,
            studied.isoformat(),
            studied.strftime("%d.%m.%Y"),
            studied.strftime("%d/%m/%Y"),
            self.accession,
        ]


@dataclass
class CampaignStudy:
    """The database, the films (by SOP UID) and every identifying value."""

    database: Database
    folder: Path
    films: dict[str, SampleFilm] = field(default_factory=dict)
    identities: list[Identity] = field(default_factory=list)
    subject_codes: list[str] = field(default_factory=list)

    def forbidden(self) -> list[str]:
        """Every value that must never appear in the blinded window."""
        values = [INSTITUTION, SITE_CODE, VISIT_LABEL, "Ombrevale", str(self.folder)]
        for identity in self.identities:
            values.extend(identity.forbidden())
        for uid, film in self.films.items():
            # the UIDs too: some equipment writes the acquisition date and time into them
            values.extend([film.path.name, film.path.stem, str(film.path), uid])
        values.extend(self.subject_codes)
        return values


def _write(folder: Path, n: int) -> tuple[SampleFilm, Identity]:
    identity = Identity(
        patient_id=f"PZQ91827{n}",
        patient_name=f"Zyxwortel{n}^Quillanea",
        birth_date=f"{1941 + n}0{n % 9 + 1}23",
        study_date=f"202309{n + 11}",
        accession=f"ACCX5550{n}987",
    )
    film = write_sample_film(
        folder / f"{identity.patient_id}_lateral.dcm",
        rows=800,
        columns=400,
        spacing_mm=(0.75, 0.75),
        subject=identity.patient_id,
        site=SITE_CODE,
        visit=VISIT_LABEL,
        seed=n,
    )
    ds = pydicom.dcmread(film.path)
    ds.PatientName = identity.patient_name
    ds.PatientBirthDate = identity.birth_date
    ds.PatientSex = "F"
    ds.InstitutionName = INSTITUTION
    ds.StudyDate = identity.study_date
    ds.SeriesDate = identity.study_date
    ds.AccessionNumber = identity.accession
    ds.StudyDescription = f"Spine of {identity.patient_name}"
    pydicom.dcmwrite(film.path, ds, enforce_file_format=True)
    return film, identity


def build_campaign_study(
    folder: Path,
    films: int = 3,
    *,
    cheap_hashing: bool = True,
    repeat_fraction: float = 0.0,
    min_gap: int = 20,
) -> CampaignStudy:
    """Users (central1, central2, adjud, a manager), `films` patients treated at L1, one open campaign."""
    if cheap_hashing:
        set_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    database = open_database(str(folder / "study.sqlite3"))
    study = CampaignStudy(database, folder / "films")
    with database.transaction() as session:
        admin = create_user(session, login="admin", role=UserRole.ADMIN, password="admin-pass", actor=None)
        create_user(
            session, login="manager", role=UserRole.DATA_MANAGER, password="manager-pass", actor=admin
        )
        for login, role, name in (
            ("central1", UserRole.CENTRAL_READER, "Central Reader One"),
            ("central2", UserRole.CENTRAL_READER, "Central Reader Two"),
            ("adjud", UserRole.ADJUDICATOR, "The Adjudicator"),
        ):
            create_user(
                session, login=login, role=role, password=PASSWORDS[login], full_name=name, actor=admin
            )
    for n in range(films):
        film, identity = _write(study.folder, n)
        study.films[film.sop_instance_uid] = film
        study.identities.append(identity)
    with database.reading() as session:
        admin = get_user(session, "admin")
    summary = import_radiographs(database, study.folder, actor=admin)
    assert not summary.unreadable and not summary.conflicts, summary
    with database.transaction() as session:
        admin = get_user(session, "admin")
        site = get_or_create_site(session, SITE_CODE, actor=admin, name=INSTITUTION)
        for identity in study.identities:
            subject = find_subject_by_patient_id(session, identity.patient_id)
            assert subject is not None
            update_subject(
                session,
                subject,
                actor=admin,
                reason="test set-up",
                procedure_date=dt.date(2023, 9, 1),
                treated_levels=["L1"],
                site=site,
            )
            study.subject_codes.append(subject.code)
        create_campaign(
            session,
            actor=get_user(session, "manager"),
            code=CAMPAIGN,
            readers=[get_user(session, "central1"), get_user(session, "central2")],
            adjudicator=session.get_one(User, get_user(session, "adjud").id),
            repeat_fraction=repeat_fraction,
            min_gap=min_gap,
            seed=11,
        )
    return study


def signed_in(database: Database, login: str) -> Account:
    """The account of one of the study's users, signed in with their password."""
    from kyphoangle.workstation.study_reads import StudyReadService

    password = {**PASSWORDS, "manager": "manager-pass"}[login]
    return StudyReadService(database).authenticate(login, password)
