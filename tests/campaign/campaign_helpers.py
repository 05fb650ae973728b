"""Helpers of the campaign tests: a small study of synthetic films, the campaign's people, reading."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from storage_helpers import PASSWORD, add_subject_with_images, vertebra_points

from kyphoangle.campaign import create_campaign, get_campaign, next_case, save_case_read, sign_case_read
from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.storage import Database
from kyphoangle.storage.models import CampaignCase, User
from kyphoangle.storage.users import create_user, get_user
from kyphoangle.vocabulary import UserRole

SEED = 1234
FILMS = 20
"""Films of the small study: 10 subjects with 2 films each."""
REPEAT_FRACTION = 0.25
REPEATS = 5
"""Cases each reader is shown twice: a quarter of the films, enough for intra-reader statistics."""


@dataclass
class People:
    """Ids of the campaign's readers, adjudicator and data manager."""

    central1: int
    central2: int
    adjudicator: int
    manager: int


def make_study(database: Database, manager_id: int, subjects: int = FILMS // 2) -> list[str]:
    """Subjects treated at L1, two films each; returns the films' SOP UIDs."""
    uids: list[str] = []
    for n in range(subjects):
        _, films = add_subject_with_images(
            database,
            manager_id,
            patient_id=f"PID-{n}",
            study_dates=(None, None),
            uid_prefix=f"1.2.826.0.1.{n + 7}",
        )
        uids.extend(films)
    return uids


def make_people(database: Database, admin_id: int, manager_id: int) -> People:
    """Two central readers and an adjudicator (password PASSWORD)."""
    with database.transaction() as session:
        admin = session.get_one(User, admin_id)
        ids = {
            login: create_user(session, login=login, role=role, password=PASSWORD, actor=admin).id
            for login, role in (
                ("central1", UserRole.CENTRAL_READER),
                ("central2", UserRole.CENTRAL_READER),
                ("adjudicator2", UserRole.ADJUDICATOR),
            )
        }
    return People(ids["central1"], ids["central2"], ids["adjudicator2"], manager_id)


def make_readers(database: Database, admin_id: int, logins: Sequence[str]) -> dict[str, int]:
    """More central readers (password PASSWORD), their ids by login."""
    with database.transaction() as session:
        admin = session.get_one(User, admin_id)
        return {
            login: create_user(
                session, login=login, role=UserRole.CENTRAL_READER, password=PASSWORD, actor=admin
            ).id
            for login in logins
        }


def tilt_px(angle_deg: float) -> float:
    """Rows to lower T12's superior anterior corner by to raise the regional angle at L1 by `angle_deg`."""
    return 200.0 * math.tan(math.radians(angle_deg))


def content_for(uid: str, extra_deg: float) -> LandmarkFile:
    """Landmarks of the synthetic spine with L1's regional angle raised by `extra_deg`."""
    points = dict(vertebra_points())
    column, row = points["T12.superior.anterior"]
    points["T12.superior.anterior"] = (column, row + tilt_px(extra_deg))
    return LandmarkFile(sop_instance_uid=uid, points=points, fractured_levels=("L1",))


def read_all(
    database: Database,
    campaign_code: str,
    login: str,
    angle_of: dict[str, float],
    repeat_shift: float = 0.0,
) -> int:
    """Read and sign every case the reader is given; `angle_of` maps a case code to its extra angle.

    A repeated case is read `repeat_shift` degrees higher than the first time.
    """
    count = 0
    seen: set[str] = set()
    while True:
        with database.transaction() as session:
            campaign = get_campaign(session, campaign_code)
            reader = get_user(session, login)
            case = next_case(session, campaign, reader)
            if case is None:
                return count
            angle = angle_of[case.case_code] + (repeat_shift if case.case_code in seen else 0.0)
            seen.add(case.case_code)
            save_case_read(session, campaign, reader, content_for(case.sop_instance_uid, angle))
            sign_case_read(session, campaign, reader, PASSWORD)
            count += 1


def create(
    database: Database,
    people: People,
    code: str = "CR1",
    seed: int | None = SEED,
    readers: Sequence[int] | None = None,
) -> None:
    """A campaign of every film: central1 and central2 (or `readers`, by id), a quarter repeated at least
    3 cases later."""
    reader_ids = list(readers) if readers is not None else [people.central1, people.central2]
    with database.transaction() as session:
        create_campaign(
            session,
            actor=session.get_one(User, people.manager),
            code=code,
            readers=[session.get_one(User, reader_id) for reader_id in reader_ids],
            adjudicator=session.get_one(User, people.adjudicator),
            repeat_fraction=REPEAT_FRACTION,
            min_gap=3,
            seed=seed,
        )


def campaign_case_codes(database: Database, code: str) -> list[str]:
    """The campaign's case codes in the order the cases were made."""
    with database.reading() as session:
        campaign = get_campaign(session, code)
        return list(
            session.scalars(
                select(CampaignCase.case_code)
                .where(CampaignCase.campaign_id == campaign.id)
                .order_by(CampaignCase.id)
            )
        )


@dataclass
class Readings:
    """The angles each reader added to the synthetic spine, by case code; `forced` needs adjudication."""

    codes: list[str]
    forced: str
    first: dict[str, float]
    second: dict[str, float]


def run_campaign(
    database: Database, people: People, code: str = "CR1", repeat_shift: float = 0.0
) -> Readings:
    """Create the campaign and have both readers read every case; one case differs by 8 deg."""
    create(database, people, code)
    codes = campaign_case_codes(database, code)
    forced = codes[0]
    first = {c: 0.7 * n for n, c in enumerate(codes)}
    second = {c: 0.7 * n + (8.0 if c == forced else 0.3 * (-1) ** n) for n, c in enumerate(codes)}
    read_all(database, code, "central1", first, repeat_shift)
    read_all(database, code, "central2", second, -repeat_shift)
    return Readings(codes, forced, first, second)


THREE_READERS = ("central1", "central2", "central3")
"""The readers of the three-reader campaign, reader 1 first."""
REPEAT_SHIFTS = {"central1": 1.5, "central2": -1.5, "central3": 0.5}
"""How much higher each reader reads their repeats in the three-reader campaign."""


@dataclass
class ThreeReadings:
    """The angles each of three readers added, by login and case code; only readers 2 and 3 disagree on
    `forced` (by 6 deg, each 3 deg from reader 1)."""

    codes: list[str]
    forced: str
    angles: dict[str, dict[str, float]]


def three_reader_angles(codes: Sequence[str]) -> ThreeReadings:
    """Readings of three readers that agree within 0.5 deg except on one case (the second)."""
    forced = codes[1]
    angles: dict[str, dict[str, float]] = {login: {} for login in THREE_READERS}
    for n, case_code in enumerate(codes):
        base = 0.7 * n
        sign = (-1) ** n
        angles["central1"][case_code] = base
        angles["central2"][case_code] = base - 3.0 if case_code == forced else base + 0.3 * sign
        angles["central3"][case_code] = base + 3.0 if case_code == forced else base - 0.2 * sign + 0.05 * n
    return ThreeReadings(list(codes), forced, angles)


def run_three_reader_campaign(
    database: Database, people: People, central3: int, code: str = "K3", logins: Sequence[str] = THREE_READERS
) -> ThreeReadings:
    """Create a campaign of central1, central2 and central3 (in that order); readers in `logins` read all."""
    create(database, people, code, readers=[people.central1, people.central2, central3])
    readings = three_reader_angles(campaign_case_codes(database, code))
    for login in logins:
        read_all(database, code, login, readings.angles[login], REPEAT_SHIFTS[login])
    return readings


def pdf_pages(path: Path) -> int:
    """Pages of a PDF, counted from its page objects (`/Type /Page`, not the `/Type /Pages` tree)."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", path.read_bytes()))
