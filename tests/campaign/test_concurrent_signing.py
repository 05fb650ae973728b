"""Twenty programs signing the same campaign cases at once: one current signed read per case, no more.

The database keeps it (partial unique indexes), not only the program: on PostgreSQL the processes
really overlap; on SQLite they queue on the write lock. Every process that comes second gets an
"already signed" refusal naming `reads amend`, and nothing of its attempt is stored.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from campaign_helpers import People, make_people, make_study
from sqlalchemy import func, select
from storage_helpers import PASSWORD

from kyphoangle.campaign import create_campaign, get_campaign, worklist
from kyphoangle.storage import Database
from kyphoangle.storage.models import CampaignCase, Image, Read, ReadStatus, User
from kyphoangle.storage.users import get_user

PROCESSES = 20
CHILD = Path(__file__).with_name("sign_cases_child.py")


def test_twenty_processes_sign_each_case_once(database: Database, db_url: str, staff: object) -> None:
    make_study(database, staff.manager, subjects=3)  # type: ignore[attr-defined]
    people: People = make_people(database, staff.admin, staff.manager)  # type: ignore[attr-defined]
    with database.transaction() as session:
        create_campaign(
            session,
            actor=session.get_one(User, people.manager),
            code="RACE",
            readers=[session.get_one(User, people.central1), session.get_one(User, people.central2)],
            adjudicator=session.get_one(User, people.adjudicator),
            repeat_fraction=0.0,
            seed=5,
        )
    with database.reading() as session:
        campaign = get_campaign(session, "RACE")
        films = {
            case.case_code: uid
            for case, uid in session.execute(
                select(CampaignCase, Image.sop_instance_uid)
                .join(Image, Image.id == CampaignCase.image_id)
                .where(CampaignCase.campaign_id == campaign.id)
            )
        }
        order = [
            films[entry.case_code] for entry in worklist(session, campaign, get_user(session, "central1"))
        ]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(CHILD.parent), str(CHILD.parents[1] / "storage")]),
    }
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), db_url, "RACE", "central1", PASSWORD, *order],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for _ in range(PROCESSES)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    for child in children:  # all start together
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    lines: list[str] = []
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err
        lines.extend(out.splitlines())
    signed = Counter(line.split()[1] for line in lines if line.startswith("signed "))
    refused = [line for line in lines if line.startswith("refused ")]
    assert len(lines) == PROCESSES * len(order)
    assert signed == Counter(order), "each case signed exactly once, by one process"
    assert len(refused) == (PROCESSES - 1) * len(order)
    assert all("already signed" in line and "reads amend" in line for line in refused), refused[:3]
    with database.reading() as session:
        per_case = session.execute(
            select(Read.campaign_case_id, func.count())
            .where(Read.status == ReadStatus.SIGNED, Read.superseded_by_id.is_(None))
            .group_by(Read.campaign_case_id)
        ).all()
        assert sorted(count for _, count in per_case) == [1] * len(order)
        assert session.scalar(select(func.count()).select_from(Read)) == len(order)  # no stray drafts
