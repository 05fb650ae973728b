"""The study database: models, engine and sessions, migrations, and one repository module per noun.

Open a database with `open_database` (it migrates the schema and sets up the study on open) and pass
the caller's session, one per user action, to the repository functions::

    db = open_database()                                    # --db / KYPHOANGLE_DB / default SQLite file
    with db.transaction() as session:                       # one write transaction
        user = users.authenticate(session, login, password)
    with db.reading() as session:                           # read-only, never waits for a writer
        subjects.list_subjects(session); study.list_visits(session)
        images.list_images(session, subject_code="S001", visit_code="D90")
        reads.list_reads(session, reader_login=user.login)
    with db.transaction() as session:
        image = images.get_image(session, sop_instance_uid)
        read = reads.create_read(session, image=image, reader=user, content=landmark_file)
    with db.transaction() as session:                       # later: edit, then sign
        read = reads.get_read(session, read_id)
        reads.update_draft(session, read, content=landmark_file, expected_version=version)
        reads.sign_read(session, read, password=password, expected_version=read.version)

Modules: `engine` (URLs, pragmas, sessions, migrations), `models` (schema and value-set Enums),
`users` (accounts, argon2, roles), `audit` (hash-chained trail), `study` and `schedule` (visit
windows), `subjects`, `images` (films, visit assignment), `reads` (save, sign, amend, list),
`recompute`, `signatures` (signatures bound to content), `ledger` (row digests in the trail),
`integrity` (what `audit verify` checks). Importing films is `kyphoangle.importer`; CSV export is
`kyphoangle.export`.
"""

from kyphoangle.storage.engine import Database, open_database, resolve_database_url

__all__ = ["Database", "open_database", "resolve_database_url"]
