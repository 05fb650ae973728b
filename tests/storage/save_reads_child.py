"""Child process of the reliability tests: saves reads one transaction at a time, printing each id.

Usage: python save_reads_child.py DB_URL SOP_INSTANCE_UID READER_LOGIN COUNT
The id is printed (and flushed) only after the commit returned.
"""

from __future__ import annotations

import sys

from storage_helpers import landmarks

from kyphoangle.storage import open_database
from kyphoangle.storage.images import get_image
from kyphoangle.storage.reads import create_read
from kyphoangle.storage.users import get_user


def main() -> None:
    url, uid, reader_login, count = sys.argv[1:5]
    database = open_database(url)
    print("ready", flush=True)
    for _ in range(int(count)):
        with database.transaction() as session:
            reader = get_user(session, reader_login)
            read = create_read(
                session,
                image=get_image(session, uid),
                reader=reader,
                content=landmarks(uid, reader=reader_login),
            )
            read_id = read.id
        print(read_id, flush=True)
    database.dispose()


if __name__ == "__main__":
    main()
