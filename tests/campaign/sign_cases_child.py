"""Child process of the concurrent signing test: signs the listed campaign cases one transaction each.

Usage: python sign_cases_child.py DB_URL CAMPAIGN READER PASSWORD UID...
Prints `ready`, waits for a line on stdin, then for each film UID (a case of the reader's worklist, in
order) prints `signed UID` after the commit, or `refused UID: MESSAGE` when it was refused.
"""

from __future__ import annotations

import sys

from campaign_helpers import content_for

from kyphoangle.campaign import get_campaign, save_case_read, sign_case_read
from kyphoangle.errors import KyphoangleError
from kyphoangle.storage import open_database
from kyphoangle.storage.users import get_user


def main() -> None:
    url, code, login, password, *uids = sys.argv[1:]
    database = open_database(url)
    print("ready", flush=True)
    sys.stdin.readline()
    for uid in uids:
        try:
            with database.transaction() as session:
                campaign = get_campaign(session, code)
                reader = get_user(session, login)
                save_case_read(session, campaign, reader, content_for(uid, 1.0))
                sign_case_read(session, campaign, reader, password)
        except KyphoangleError as exc:
            print(f"refused {uid}: {exc}", flush=True)
            continue
        print(f"signed {uid}", flush=True)
    database.dispose()


if __name__ == "__main__":
    main()
