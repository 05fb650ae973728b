"""Helpers of the exchange tests: signed site reads of every demo film from its ground truth."""

from __future__ import annotations

from dataclasses import replace

from conftest import DemoStudy

from kyphoangle.landmark_file import ReadType, read_landmark_file
from kyphoangle.storage.images import find_image
from kyphoangle.storage.models import Read
from kyphoangle.storage.reads import create_read, sign_read
from kyphoangle.storage.users import get_user

SITE_READER, SITE_PASSWORD = "site.reader", "site-reader"


def sign_truth_reads(demo: DemoStudy) -> int:
    """A signed site read of every demo film that has none, from its truth file; returns how many."""
    count = 0
    with demo.open().transaction() as session:
        reader = get_user(session, SITE_READER)
        for path in sorted((demo.films / "truth").glob("*.json")):
            content = replace(read_landmark_file(path), reader=SITE_READER, read_type=ReadType.SITE)
            image = find_image(session, content.sop_instance_uid)
            assert image is not None
            if session.query(Read).filter(Read.image_id == image.id, Read.reader_id == reader.id).count():
                continue
            read = create_read(session, image=image, reader=reader, content=content)
            sign_read(session, read, password=SITE_PASSWORD)
            count += 1
    return count
