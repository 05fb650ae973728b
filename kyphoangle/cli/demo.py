"""`kyphoangle demo install`: the built-in demo study in a database, ready to read.

Writes the synthetic films (`kyphoangle.demo`), creates the demo accounts, imports the films, fills in
each subject's site, diagnosis, procedure date and treated levels (which assigns the visits), and stores
the ground truth of the baseline films as signed site reads by `site.reader`, so the browser, the CSV
export and the change-from-baseline column have something to show from the start. Two blinded central
reading campaigns (central1, central2, adjudicator) are opened too: `DEMO-CENTRAL` over every film, not
yet read, and `DEMO-PILOT` over the baseline and D90 films, already read by both central readers (the
ground truth with a reader's hand tremor of about 0.3 mm, and reader 2 misplacing an endplate corner on two
films), so the adjudicator has cases waiting and the agreement report has figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kyphoangle.cli.db_common import SubParsers, add_group, database_options, open_db
from kyphoangle.demo import DemoFolderError, generate_demo_films
from kyphoangle.folders import data_folder
from kyphoangle.workstation.accounts import users_exist
from kyphoangle.workstation.demo_study import (
    DEMO_ACCOUNTS,
    DEMO_CAMPAIGN,
    PILOT_CAMPAIGN,
    PILOT_DISAGREEMENTS,
    install_demo,
)

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_CAMPAIGN",
    "PILOT_CAMPAIGN",
    "PILOT_DISAGREEMENTS",
    "install_demo",
    "register",
]


def default_demo_folder() -> Path:
    """Where the demo films are written: `demo-films` in the user data folder."""
    return data_folder() / "demo-films"


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
    if users_exist(database):
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
