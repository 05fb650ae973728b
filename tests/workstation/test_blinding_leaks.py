"""No command of the command line tells a central reader or an adjudicator who, when, where or which film.

The commands come from the CLI's own argparse parser, so a new command is run here without anyone
adding it: every action, with each of its switches, as every role, on a study whose every identifying
text field holds a sentinel (patient names and IDs, birth and study dates, the procedure date, the
original UIDs, the files' folder, the site and institution, the visit labels, the subject codes and
the other reader's login). A positional argument or required option this table does not know fails
the test with its name, so it must be given a sample value.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from argon2 import PasswordHasher
from sqlalchemy import update

from kyphoangle.cli import build_parser, main
from kyphoangle.dicom.radiograph import PatientIdentity
from kyphoangle.dicom.writer import write_radiograph
from kyphoangle.landmark_file import LandmarkFile, write_landmark_file
from kyphoangle.storage.models import Visit
from kyphoangle.storage.users import set_password_hasher
from kyphoangle.vocabulary import UserRole
from kyphoangle.workstation import campaigns
from kyphoangle.workstation.accounts import add_user, create_first_admin
from kyphoangle.workstation.connection import open_study, sign_in
from kyphoangle.workstation.films import import_films, list_films
from kyphoangle.workstation.subjects import list_subjects, update_subject

PASSWORD = "a-long-test-password"
CAMPAIGN = "LEAKTEST"
PROCEDURE = dt.date(2000, 1, 10)
STUDY_DAYS = (-5, 3)
BIRTH = dt.date(1931, 2, 3)
USERS: dict[str, UserRole] = {
    "admin": UserRole.ADMIN,
    "manager": UserRole.DATA_MANAGER,
    "sitereader": UserRole.SITE_READER,
    "central1": UserRole.CENTRAL_READER,
    "otherreader": UserRole.CENTRAL_READER,
    "adjud": UserRole.ADJUDICATOR,
}
BLINDED_USERS = ("central1", "adjud")


@dataclass
class SentinelStudy:
    """The study's database, the sentinels it holds, a landmark file and the folder for output files."""

    db: str
    sentinels: tuple[str, ...]
    landmark_file: Path
    out: Path


def _points() -> dict[str, tuple[float, float]]:
    points: dict[str, tuple[float, float]] = {}
    for n, vertebra in enumerate(("T12", "L1", "L2")):
        top, bottom = 40.0 + n * 60.0, 80.0 + n * 60.0
        for side, row in (("superior", top), ("inferior", bottom)):
            points[f"{vertebra}.{side}.posterior"] = (30.0, row)
            points[f"{vertebra}.{side}.middle"] = (60.0, row + 2.0)
            points[f"{vertebra}.{side}.anterior"] = (90.0, row + 4.0)
    return points


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelStudy]:
    set_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    root = tmp_path_factory.mktemp("leaks")
    films = root / "SENTINELPATH-films"
    sentinels = {
        "SENTINELPATH",
        "SENTINELSITE",
        "SENTINELINST",
        "SENTINELVISIT",
        "SENTINELDESC",
        "SENTINELACC",
    }
    sentinels |= {
        BIRTH.isoformat(),
        BIRTH.strftime("%Y%m%d"),
        PROCEDURE.isoformat(),
        PROCEDURE.strftime("%Y%m%d"),
    }
    rng = np.random.default_rng(7)
    for n in range(3):
        for k, day in enumerate(STUDY_DAYS):
            date = PROCEDURE + dt.timedelta(days=day)
            sentinels |= {date.isoformat(), date.strftime("%Y%m%d")}
            uid = f"1.2.826.0.1.3680043.99.{n}.{k}"
            sentinels |= {uid, f"1.2.826.0.1.3680043.98.{n}", f"1.2.826.0.1.3680043.97.{n}.{k}"}
            (films / f"patient-{n}").mkdir(parents=True, exist_ok=True)
            write_radiograph(
                films / f"patient-{n}" / f"film-{k}.dcm",
                rng.integers(0, 4000, size=(256, 128), dtype=np.uint16),
                pixel_spacing_mm=(0.5, 0.5),
                sop_instance_uid=uid,
                study_instance_uid=f"1.2.826.0.1.3680043.98.{n}",
                series_instance_uid=f"1.2.826.0.1.3680043.97.{n}.{k}",
                study_date=date,
                identity=PatientIdentity(
                    patient_name=f"SENTINELNAME{n}^PATIENT",
                    patient_id=f"SENTINELPID{n}",
                    patient_birth_date=BIRTH,
                    institution_name="SENTINELINST",
                    study_description="SENTINELDESC",
                    accession_number=f"SENTINELACC{n}",
                ),
            )
            sentinels |= {f"SENTINELNAME{n}", f"SENTINELPID{n}"}
    db = str(root / "study.sqlite3")
    database = open_study(db)
    create_first_admin(database, "admin", PASSWORD)
    admin = sign_in(database, "admin", PASSWORD)
    for login, role in USERS.items():
        if login != "admin":
            add_user(admin, login, role, PASSWORD, full_name=f"{login} full name")
    import_films(admin, [films])
    with database.transaction() as session:
        session.execute(update(Visit).values(label="SENTINELVISIT " + Visit.code))
    for subject in list_subjects(admin):
        update_subject(
            admin, subject.code, procedure_date=PROCEDURE, treated_levels=["L1"], site="SENTINELSITE"
        )
        sentinels.add(subject.code)
    assert all(f.visit for f in list_films(admin)), "every film has its visit"
    campaigns.create_campaign(
        admin, CAMPAIGN, readers=["otherreader", "central1"], adjudicator="adjud", repeat_fraction=0.0, seed=5
    )
    # The other reader reads and signs every case, the central reader the first one: there are other
    # readers' values, signed reads and a draft to list.
    for login, count in (("otherreader", 6), ("central1", 1)):
        reader = sign_in(database, login, PASSWORD)
        for _ in range(count):
            case = campaigns.next_case(reader, CAMPAIGN)
            assert case is not None
            path = root / f"{login}-case.json"
            with database.reading() as session:
                from kyphoangle.campaign import get_campaign, get_case
                from kyphoangle.storage.models import Image

                image = session.get_one(
                    Image, get_case(session, get_campaign(session, CAMPAIGN), case.case_code).image_id
                )
                uid = image.sop_instance_uid
            write_landmark_file(path, LandmarkFile(uid, _points(), reader=login, fractured_levels=("L1",)))
            campaigns.read_case(reader, CAMPAIGN, path, sign_with=PASSWORD)
    landmark_file = root / "mine.json"
    write_landmark_file(
        landmark_file, LandmarkFile("1.2.3.4", _points(), reader="central1", fractured_levels=("L1",))
    )
    database.dispose()
    yield SentinelStudy(db, tuple(sorted(sentinels)), landmark_file, root / "out")


SAMPLES: dict[str, str] = {
    "sop_instance_uid": "1.2.3.4",
    "code": "S999",
    "login": "newuser",
    "name": CAMPAIGN,
    "campaign": CAMPAIGN,
    "case": "C-0000",
    "read_ids": "1",
    "read": "1",
    "read_id": "1",
    "reason": "checking the blinding",
    "readers": "central1,otherreader",
    "adjudicator": "adjud",
    "paths": "/nonexistent/films",
    "film": "/nonexistent/film.dcm",
    "image": "/nonexistent/film.dcm",
    "visit": "D15",
    "landmarks": "{landmarks}",
    "file": "{landmarks}",
    "files": "{landmarks}",
    "folder": "{out}/reads",
    "out": "{out}/export.csv",
    "study_uid": "1.2.826.0.1.3680043.98.0",
}
"""Sample values of positional arguments and required options, by their destination."""

OUTPUT_OPTIONS: dict[str, str] = {
    "film": "{out}/case.dcm",
    "key": "{out}/key.csv",
    "report": "{out}/report.html",
    "html": "{out}/monitoring.html",
}
"""Optional outputs that write files: given, so that what they write is checked too."""

BOUNDED: dict[tuple[str, ...], list[str]] = {
    ("pacs", "listen"): ["--seconds", "0", "--port", "0", "--folder", "{out}/received"],
}
"""Options ending a command that otherwise runs until interrupted (the DICOM receiver), on a free port."""


def _leaves(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield prefix, parser
        return
    for name, child in subparsers[0].choices.items():
        yield from _leaves(child, (*prefix, name))


def _sample(command: tuple[str, ...], action: argparse.Action) -> str:
    if action.choices:
        return str(next(iter(action.choices)))
    if action.dest not in SAMPLES:
        pytest.fail(
            f"`kyphoangle {' '.join(command)}`: give its argument {action.dest!r} a sample value in SAMPLES"
        )
    return SAMPLES[action.dest]


def _signs_in(command: tuple[str, ...]) -> bool:
    """Whether the command takes `--user` (a few need no sign-in: measuring a file, the support bundle)."""
    parser = dict(_leaves(build_parser()))[command]
    return any(action.dest == "user" for action in parser._actions)


def invocations() -> list[tuple[str, ...]]:
    """Every command with sample arguments: once plain, once with each of its switches and outputs."""
    runs: list[tuple[str, ...]] = []
    for command, parser in _leaves(build_parser()):
        if not command:
            continue
        base: list[str] = list(command) + BOUNDED.get(command, [])
        extras: list[list[str]] = []
        groups_done: set[int] = set()
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction) or action.dest in ("db", "user"):
                continue
            if not action.option_strings:
                value = _sample(command, action)
                base.append(value)
                continue
            group = next((g for g in parser._mutually_exclusive_groups if action in g._group_actions), None)
            if action.required or (group is not None and group.required and id(group) not in groups_done):
                if group is not None:
                    groups_done.add(id(group))
                base += [action.option_strings[0], _sample(command, action)]
            elif isinstance(action, argparse._StoreTrueAction):
                extras.append([action.option_strings[0]])
            elif action.dest in OUTPUT_OPTIONS:
                extras.append([action.option_strings[0], OUTPUT_OPTIONS[action.dest]])
        runs.append(tuple(base))
        runs.extend(tuple(base + extra) for extra in extras)
    return runs


def test_every_command_is_run(study: SentinelStudy) -> None:
    commands = {run[:2] for run in invocations()}
    for expected in (("reads", "list"), ("images", "list"), ("subjects", "list"), ("campaign", "status")):
        assert expected in commands
    assert ("images", "list", "--paths") in {run[:3] for run in invocations()}


@pytest.mark.parametrize("login", list(USERS))
def test_no_sentinel_reaches_a_blinded_reader(
    study: SentinelStudy, login: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", PASSWORD)
    monkeypatch.setenv("KYPHOANGLE_NEW_PASSWORD", PASSWORD)
    monkeypatch.delenv("KYPHOANGLE_DB", raising=False)
    sentinels = study.sentinels + (("otherreader",) if login in BLINDED_USERS else ())
    refused: list[str] = []
    done: list[str] = []
    for run in invocations():
        if run[:2] in (("demo", "install"),):
            continue  # writes a whole demo study into an empty database only
        shutil.rmtree(study.out, ignore_errors=True)
        study.out.mkdir(parents=True)
        argv = [part.format(out=study.out, landmarks=study.landmark_file) for part in run]
        command = next(c for c, _ in _leaves(build_parser()) if c and tuple(run[: len(c)]) == c)
        code = main(["--db", study.db, *argv, *(["--user", login] if _signs_in(command) else [])])
        out, err = capsys.readouterr()
        if code == 0:
            done.append(" ".join(run))
        if code == 3:
            refused.append(" ".join(run))
            assert len(err.strip().splitlines()) == 1, (run, err)
        if login not in BLINDED_USERS:
            continue
        written = "".join(
            path.read_bytes().decode("latin-1") for path in study.out.rglob("*") if path.is_file()
        )
        for sentinel in sentinels:
            for where, text in (("stdout", out), ("stderr", err), ("output files", written)):
                assert sentinel not in text, f"{login}: `{' '.join(run)}` shows {sentinel!r} on {where}"
    if login in BLINDED_USERS:
        assert "images list --paths" in refused and "subjects list" in refused, refused
        assert {"reads list", f"campaign status {CAMPAIGN}", f"campaign worklist {CAMPAIGN}"} <= set(done), (
            done
        )
    if login == "central1":
        assert f"campaign next {CAMPAIGN} --film {{out}}/case.dcm" in done, done


def test_a_refusal_is_audited(
    study: SentinelStudy, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", PASSWORD)
    assert main(["images", "list", "--paths", "--db", study.db, "--user", "central1"]) == 3
    assert (
        capsys.readouterr().err.strip()
        == "kyphoangle: not permitted: central readers cannot list image paths"
    )
    assert main(["audit", "list", "--entity", "access", "--json", "--db", study.db, "--user", "manager"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(
        e["actor_login"] == "central1" and e["action"] == "deny" and e["entity_id"] == "list_image_paths"
        for e in events
    ), events
