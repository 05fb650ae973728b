"""The built-in demo study in a database: accounts, films, subject records, signed site reads, campaigns.

Fills in each subject's site, diagnosis, procedure date and treated levels (which assigns the visits),
stores the ground truth of the baseline films as signed site reads by `site.reader`, opens the blinded
campaign `DEMO-CENTRAL` over every film and reads the pilot campaign `DEMO-PILOT` as the two simulated
central readers, so the adjudicator has cases waiting and the agreement report has figures.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from kyphoangle.campaign import create_campaign, get_campaign, next_case, save_case_read, sign_case_read
from kyphoangle.demo import DemoStudy
from kyphoangle.dicom import read_header
from kyphoangle.importer import import_radiographs
from kyphoangle.landmark_file import LandmarkFile, read_landmark_file
from kyphoangle.protocol import regional_endplates
from kyphoangle.storage import Database
from kyphoangle.storage.images import get_image
from kyphoangle.storage.reads import create_read, sign_read
from kyphoangle.storage.subjects import find_subject_by_patient_id, get_or_create_site, update_subject
from kyphoangle.storage.users import create_user, get_user
from kyphoangle.vocabulary import ReadType, UserRole, Vertebra

DEMO_ACCOUNTS: tuple[tuple[str, UserRole, str, str], ...] = (
    ("admin", UserRole.ADMIN, "demo-admin", "Demo administrator"),
    ("demo", UserRole.SITE_READER, "demo-reader", "Demo reader"),
    ("site.reader", UserRole.SITE_READER, "site-reader", "Demo site radiologist"),
    ("central1", UserRole.CENTRAL_READER, "central-1!", "Demo central reader 1"),
    ("central2", UserRole.CENTRAL_READER, "central-2!", "Demo central reader 2"),
    ("adjudicator", UserRole.ADJUDICATOR, "adjudicate", "Demo adjudicator"),
    ("data.manager", UserRole.DATA_MANAGER, "data-manager", "Demo data manager"),
)
"""Login, role, password and name of the demo accounts (the README lists them)."""

BASELINE_VISIT = "D-5"
DEMO_CAMPAIGN = "DEMO-CENTRAL"
DEMO_SEED = 20261125
PILOT_CAMPAIGN = "DEMO-PILOT"
PILOT_VISITS = {BASELINE_VISIT: "baseline", "D90": "D90"}
"""The films of the pilot reading: demo visit label -> the study's visit code."""
PILOT_TREMOR_MM = 0.3
"""Standard deviation of the simulated central readers' landmark placement, per coordinate."""
PILOT_DISAGREEMENTS = 2
"""Cases on which the simulated reader 2 misplaces the upper endplate of the regional angle."""


def install_demo(database: Database, study: DemoStudy) -> None:
    """Accounts, import, subject records and the baseline site reads, each step in its own transaction."""
    with database.transaction() as session:
        admin = create_user(session, login="admin", role=UserRole.ADMIN, password="demo-admin", actor=None)
        for login, role, password, name in DEMO_ACCOUNTS[1:]:
            create_user(session, login=login, role=role, password=password, full_name=name, actor=admin)
    with database.reading() as session:
        admin = get_user(session, "admin")
    summary = import_radiographs(database, study.folder, actor=admin)
    if summary.unreadable or summary.conflicts:
        raise RuntimeError(f"demo films did not import cleanly: {summary}")
    with database.transaction() as session:
        admin = get_user(session, "admin")
        for demo_subject in study.subjects:
            subject = find_subject_by_patient_id(session, demo_subject.patient_id)
            assert subject is not None, demo_subject.patient_id
            site = get_or_create_site(session, demo_subject.site, actor=admin, name=demo_subject.institution)
            update_subject(
                session,
                subject,
                actor=admin,
                reason="demo study set-up",
                procedure_date=demo_subject.procedure_date,
                treated_levels=demo_subject.fractured_levels,
                site=site,
                diagnosis=str(demo_subject.diagnosis),
            )
    site_password = next(password for login, _, password, _ in DEMO_ACCOUNTS if login == "site.reader")
    for film in study.films:
        if film.visit != BASELINE_VISIT:
            continue
        with database.transaction() as session:
            reader = get_user(session, "site.reader")
            truth = read_landmark_file(film.truth_path)
            content = replace(truth, reader="site.reader", read_type=ReadType.SITE)
            read = create_read(
                session, image=get_image(session, film.sop_instance_uid), reader=reader, content=content
            )
            sign_read(session, read, password=site_password)
    with database.transaction() as session:
        create_campaign(
            session,
            actor=get_user(session, "admin"),
            code=DEMO_CAMPAIGN,
            title="Demo blinded central reading",
            readers=[get_user(session, "central1"), get_user(session, "central2")],
            adjudicator=get_user(session, "adjudicator"),
            repeat_fraction=0.1,
            min_gap=min(5, max(len(study.films) - 2, 0)),
            seed=DEMO_SEED,
        )
    read_pilot_campaign(database, study)


def _simulated_read(
    truth: LandmarkFile, spacing_mm: float, rng: np.random.Generator, *, misplace: bool
) -> LandmarkFile:
    """The truth as a reader places it: a tremor on every point, and optionally one corner misplaced."""
    sd_px = PILOT_TREMOR_MM / spacing_mm
    points = {
        key: (float(x + rng.normal(0.0, sd_px)), float(y + rng.normal(0.0, sd_px)))
        for key, (x, y) in truth.points.items()
    }
    if misplace and truth.fractured_levels:
        upper, _ = regional_endplates(Vertebra(truth.fractured_levels[0]))
        corner = f"{upper}.anterior"
        posterior = points[f"{upper}.posterior"]
        x, y = points[corner]
        width = float(np.hypot(x - posterior[0], y - posterior[1]))
        points[corner] = (x, y + 0.2 * width)  # about 11 deg more tilt on one endplate
    return replace(truth, points=points)


def read_pilot_campaign(database: Database, study: DemoStudy) -> None:
    """Create `DEMO-PILOT` and read it as the two simulated central readers (signed, in their order)."""
    films = [film for film in study.films if film.visit in PILOT_VISITS]
    with database.transaction() as session:
        create_campaign(
            session,
            actor=get_user(session, "admin"),
            code=PILOT_CAMPAIGN,
            title="Demo pilot reading (already read)",
            readers=[get_user(session, "central1"), get_user(session, "central2")],
            adjudicator=get_user(session, "adjudicator"),
            visits=list(PILOT_VISITS.values()),
            repeat_fraction=0.25,
            min_gap=2,
            seed=DEMO_SEED + 1,
        )
    truths = {film.sop_instance_uid: read_landmark_file(film.truth_path) for film in films}
    spacing = {film.sop_instance_uid: read_header(film.path).spacing.row_mm or 0.15 for film in films}
    passwords = {login: password for login, _, password, _ in DEMO_ACCOUNTS}
    for number, login in enumerate(("central1", "central2"), start=1):
        rng = np.random.default_rng(DEMO_SEED + number)
        misplaced = 0
        seen: set[str] = set()
        while True:
            with database.transaction() as session:
                campaign, reader = get_campaign(session, PILOT_CAMPAIGN), get_user(session, login)
                case = next_case(session, campaign, reader)
                if case is None:
                    break
                first_reading = case.case_code not in seen
                seen.add(case.case_code)
                misplace = number == 2 and first_reading and misplaced < PILOT_DISAGREEMENTS
                misplaced += misplace
                content = _simulated_read(
                    truths[case.sop_instance_uid], spacing[case.sop_instance_uid], rng, misplace=misplace
                )
                save_case_read(session, campaign, reader, content)
                session.flush()
                sign_case_read(session, campaign, reader, passwords[login])
