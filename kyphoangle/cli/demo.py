"""`kyphoangle demo install`: the built-in demo study in a database, ready to read.

Writes the synthetic films (`kyphoangle.demo`), creates the demo accounts, imports the films, fills in
each subject's site, diagnosis, procedure date and treated levels (which assigns the visits), and stores
the ground truth of the baseline films as signed site reads by `site.reader`, so the browser, the CSV
export and the change-from-baseline column have something to show from the start. A blinded central
reading campaign over every film (central1, central2, adjudicator) is opened too.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import platformdirs

from kyphoangle.campaign import create_campaign
from kyphoangle.cli.db_common import SubParsers, add_group, database_options, open_db
from kyphoangle.demo import DemoFolderError, DemoStudy, generate_demo_films
from kyphoangle.importer import import_radiographs
from kyphoangle.landmark_file import ReadType, read_landmark_file
from kyphoangle.storage import Database
from kyphoangle.storage.images import get_image
from kyphoangle.storage.reads import create_read, sign_read
from kyphoangle.storage.subjects import find_subject_by_patient_id, get_or_create_site, update_subject
from kyphoangle.storage.users import count_users, create_user, get_user

DEMO_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("admin", "admin", "demo-admin", "Demo administrator"),
    ("demo", "site_reader", "demo-reader", "Demo reader"),
    ("site.reader", "site_reader", "site-reader", "Demo site radiologist"),
    ("central1", "central_reader", "central-1!", "Demo central reader 1"),
    ("central2", "central_reader", "central-2!", "Demo central reader 2"),
    ("adjudicator", "adjudicator", "adjudicate", "Demo adjudicator"),
    ("data.manager", "data_manager", "data-manager", "Demo data manager"),
)
"""Login, role, password and name of the demo accounts (the README lists them)."""

BASELINE_VISIT = "D-5"
DEMO_CAMPAIGN = "DEMO-CENTRAL"
DEMO_SEED = 20261125


def default_demo_folder() -> Path:
    """Where the demo films are written: `demo-films` in the user data folder."""
    return Path(platformdirs.user_data_dir("kyphoangle", appauthor=False)) / "demo-films"


def register(subparsers: SubParsers) -> None:
    """Add `demo install`."""
    group = add_group(subparsers, "demo", "the built-in demo study")
    parser = group.add_parser(
        "install",
        help="write the demo films and load them into the database (once)",
        description="Write the synthetic demo films, create the demo accounts and import everything. "
        "Does nothing when the database already has users.",
        parents=[database_options()],
    )
    parser.add_argument("--folder", type=Path, help="where to write the films (default: your data folder)")
    parser.add_argument("--subjects", type=int, default=4, help="number of demo patients (default 4)")
    parser.set_defaults(run=run_install)


def run_install(args: argparse.Namespace) -> int:
    """Install the demo study unless the database is already in use."""
    database = open_db(args)
    with database.reading() as session:
        if count_users(session) > 0:
            print(f"demo: {database.display_name} already has users; nothing to do", file=sys.stderr)
            return 0
    folder: Path = args.folder or default_demo_folder()
    if folder.exists() and any(folder.iterdir()):
        folder = folder / "study"
        if folder.exists() and any(folder.iterdir()):
            raise DemoFolderError(f"{folder} is not empty; choose another --folder")
    print(f"demo: writing films to {folder}", file=sys.stderr)
    study = generate_demo_films(folder, subjects=args.subjects)
    install_demo(database, study)
    print(
        f"demo: {len(study.films)} films of {len(study.subjects)} patients in {database.display_name}; "
        "log in as demo / demo-reader",
        file=sys.stderr,
    )
    return 0


def install_demo(database: Database, study: DemoStudy) -> None:
    """Accounts, import, subject records and the baseline site reads, each step in its own transaction."""
    with database.transaction() as session:
        admin = create_user(session, login="admin", role="admin", password="demo-admin", actor=None)
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
