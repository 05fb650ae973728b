"""A central reader's blinded worklist of one reading campaign (`kyphoangle.campaign`).

The reader sees only their current case (`next_case`): its code, its film and the fractured levels.
Reads are saved and signed through `save_case_read` and `sign_case_read`; loading goes through the
access-controlled `case_reads`, so any film other than the current case is refused. The catalogue is
empty and nothing can be imported: a central reader never browses the study.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from kyphoangle import campaign as campaigns
from kyphoangle.errors import PermissionDeniedError, ReadLockedError
from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.storage import Database
from kyphoangle.storage import reads as read_repo
from kyphoangle.storage import users as user_repo
from kyphoangle.storage.models import Image
from kyphoangle.vocabulary import CampaignStatus, ReadStatus
from kyphoangle.workstation.access import Action
from kyphoangle.workstation.connection import DatabaseService
from kyphoangle.workstation.records import ImageEntry, ImportReport, ProgressCallback, StoredRead

CaseView = campaigns.CaseView


class BlindedCase(Protocol):
    """What the blinded windows show of a case: its code, its film, its levels and its place."""

    @property
    def case_code(self) -> str:
        """The random case code."""

    @property
    def sop_instance_uid(self) -> str:
        """The film's SOP Instance UID (never shown)."""

    @property
    def file_path(self) -> str:
        """Where the film is read from (never shown)."""

    @property
    def fractured_levels(self) -> tuple[str, ...]:
        """The levels to measure."""

    @property
    def position(self) -> int:
        """1-based place in the worklist."""

    @property
    def total(self) -> int:
        """Length of the worklist."""


def _reading_campaigns(database: Database, login: str) -> tuple[str | None, str | None]:
    """(the first open campaign by name where `login` has a case left to read, the first they read in)."""
    first: str | None = None
    with database.reading() as session:
        for campaign in campaigns.list_campaigns(session):
            if campaign.status != CampaignStatus.OPEN:
                continue
            members = campaigns.members_of(session, campaign)
            for role in campaigns.READER_ROLES:
                if role in members and members[role][1].login == login:
                    first = first or campaign.code
                    if campaigns.next_case(session, campaign, members[role][1]) is not None:
                        return campaign.code, first
    return None, first


def open_campaign_for(database: Database, login: str) -> str | None:
    """The open campaign `login` reads as a central reader: the first by name with a case left to read,
    else the first by name (its worklist is then complete); None when they read in none."""
    with_work, first = _reading_campaigns(database, login)
    return with_work or first


def campaign_with_cases_left(database: Database, login: str) -> str | None:
    """The first open campaign by name in which `login` has a case left to read, or None."""
    return _reading_campaigns(database, login)[0]


def _locked(what: str = "This case") -> ReadLockedError:
    return ReadLockedError(f"{what} is signed and locked; it can no longer be changed.")


class CampaignReadService(DatabaseService):
    """A central reader's cases of one campaign, behind the `ReadService` protocol."""

    name_database_in_errors = False

    def __init__(self, database: Database, campaign_code: str) -> None:
        super().__init__(database)
        self.campaign_code = campaign_code

    # ------------------------------------------------------------------------------------ worklist
    def next_campaign_with_work(self) -> str | None:
        """Another open campaign in which the signed-in reader has a case left, or None."""

        def run() -> str | None:
            code = campaign_with_cases_left(self.database, self.login)
            return None if code == self.campaign_code else code

        return self._guard(run)

    def current_case(self) -> BlindedCase | None:
        """The reader's case to read now (blinded), or None when the worklist is done."""

        def run() -> CaseView | None:
            with self.database.reading() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                reader = user_repo.get_user(session, self.login)
                return campaigns.next_case(session, campaign, reader)

        return self._guard(run)

    def upcoming_paths(self, count: int) -> list[str]:
        """Film paths of the next `count` unread cases after the current one (for prefetching)."""

        def run() -> list[str]:
            with self.database.reading() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                reader = user_repo.get_user(session, self.login)
                current = campaigns.next_case(session, campaign, reader)
                if current is None:
                    return []
                paths: list[str] = []
                for entry in campaigns.worklist(session, campaign, reader):
                    if entry.done or entry.position <= current.position:
                        continue
                    case = campaigns.get_case(session, campaign, entry.case_code)
                    path = session.get_one(Image, case.image_id).file_path
                    if path != current.file_path and path not in paths:
                        paths.append(path)
                    if len(paths) >= count:
                        break
                return paths

        return self._guard(run)

    def snapping_allowed(self) -> bool:
        """Whether the campaign lets its readers accept snapping proposals."""

        def run() -> bool:
            with self.database.reading() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                return campaigns.settings_of(campaign).snapping

        return self._guard(run)

    def progress_text(self) -> str:
        """'n of m cases signed' for the reader's own worklist."""

        def run() -> str:
            with self.database.reading() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                reader = user_repo.get_user(session, self.login)
                entries = campaigns.worklist(session, campaign, reader)
                return f"{sum(e.done for e in entries)} of {len(entries)} cases signed"

        return self._guard(run)

    def _require_current(self, sop_instance_uid: str) -> BlindedCase:
        case = self.current_case()
        if case is None or case.sop_instance_uid != sop_instance_uid:
            raise _locked()
        return case

    # ---------------------------------------------------------------------------------------- reads
    def load_read(self, sop_instance_uid: str, reader: str) -> StoredRead | None:
        """The reader's own read of their current case, or None; any other film is refused."""
        if reader != self.login:
            raise PermissionDeniedError("Only your own reads can be opened.")
        case = self.current_case()
        if case is None or case.sop_instance_uid != sop_instance_uid:
            raise PermissionDeniedError("Only the case you are reading now can be opened.")

        def run() -> StoredRead | None:
            with self.database.reading() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                user = user_repo.get_user(session, reader)
                found = campaigns.case_reads(session, campaign, case.case_code, user)
                if not found:
                    return None
                read = found[-1]
                return StoredRead(read_repo.read_content(read), read.status == ReadStatus.SIGNED)

        return self._guard(run)

    def save_draft(self, content: LandmarkFile) -> None:
        """Save the draft of the current case (refused once the case is signed)."""
        self.check(Action.READ_CASES)
        self._require_current(content.sop_instance_uid)

        def run() -> None:
            with self.database.transaction() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                user = user_repo.get_user(session, self.login)
                campaigns.save_case_read(session, campaign, user, content)

        self._guard(run)

    def sign(self, content: LandmarkFile, password: str) -> None:
        """Save and sign the current case with the reader's password (one transaction)."""
        self.check(Action.SIGN)
        self._require_current(content.sop_instance_uid)

        def run() -> None:
            with self.database.transaction() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                user = user_repo.get_user(session, self.login)
                campaigns.save_case_read(session, campaign, user, content)
                session.flush()
                campaigns.sign_case_read(session, campaign, user, password)

        self._guard(run)

    def images(self) -> Sequence[ImageEntry]:
        """No catalogue: a blinded reader never browses the study."""
        return []

    def import_paths(
        self, paths: Iterable[str | Path], progress: ProgressCallback, canceled: Callable[[], bool]
    ) -> ImportReport:
        """Refused: a central reader cannot import films."""
        self.check(Action.IMPORT_IMAGES)
        raise PermissionDeniedError("Films are not imported from a blinded worklist.")
