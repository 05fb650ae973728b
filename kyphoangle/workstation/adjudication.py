"""The adjudicator's cases of a blinded campaign: cases awaiting adjudication, one at a time.

The adjudicator sees a case by its code with every reader's signed first read (as "Reader 1",
"Reader 2", ...; no patient, date, visit, site or reader login) and either chooses one of them as final
with a reason, or makes a third read and signs it as final. Both decisions take the adjudicator's
password and are audited by the core (`kyphoangle.campaign`).
"""

from __future__ import annotations

from kyphoangle import campaign as campaigns
from kyphoangle.errors import PermissionDeniedError, ReadLockedError
from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.storage import Database
from kyphoangle.storage import reads as read_repo
from kyphoangle.storage import users as user_repo
from kyphoangle.storage.models import Image
from kyphoangle.vocabulary import CampaignRole, CampaignStatus, ReadStatus
from kyphoangle.workstation.access import Action
from kyphoangle.workstation.campaign_reads import BlindedCase, CampaignReadService
from kyphoangle.workstation.records import StoredRead

AdjudicationCase = campaigns.AdjudicationCase


def open_adjudication_for(database: Database, login: str) -> str | None:
    """The open campaign `login` adjudicates with the most cases waiting (the first by name on a tie)."""
    best = _most_waiting(database, login)
    return best[1] if best is not None else None


def adjudications_waiting(database: Database, login: str) -> int:
    """How many cases wait for `login` in the open campaign they adjudicate with the most waiting."""
    best = _most_waiting(database, login)
    return best[0] if best is not None else 0


def _most_waiting(database: Database, login: str) -> tuple[int, str] | None:
    best: tuple[int, str] | None = None
    with database.reading() as session:
        for campaign in campaigns.list_campaigns(session):
            if campaign.status != CampaignStatus.OPEN:
                continue
            member = campaigns.members_of(session, campaign).get(CampaignRole.ADJUDICATOR)
            if member is None or member[1].login != login:
                continue
            waiting = len(campaigns.adjudication_worklist(session, campaign, member[1]))
            if best is None or waiting > best[0]:
                best = (waiting, campaign.code)
    return best


class AdjudicationService(CampaignReadService):
    """The adjudicator's cases of one campaign, behind the `ReadService` protocol (their own third reads)."""

    def next_campaign_with_work(self) -> str | None:
        """Another open campaign with cases waiting for the signed-in adjudicator, or None."""

        def run() -> str | None:
            best = _most_waiting(self.database, self.login)
            if best is None or best[0] == 0 or best[1] == self.campaign_code:
                return None
            return best[1]

        return self._guard(run)

    def current_case(self) -> AdjudicationCase | None:
        """The first case awaiting adjudication, or None when there is none."""

        def run() -> AdjudicationCase | None:
            with self.database.reading() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                user = user_repo.get_user(session, self.login)
                return campaigns.adjudication_case(session, campaign, user)

        return self._guard(run)

    def upcoming_paths(self, count: int) -> list[str]:
        """Film paths of the next cases awaiting adjudication after the current one."""

        def run() -> list[str]:
            with self.database.reading() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                user = user_repo.get_user(session, self.login)
                paths: list[str] = []
                for code in campaigns.adjudication_worklist(session, campaign, user)[1 : count + 1]:
                    case = campaigns.get_case(session, campaign, code)
                    paths.append(session.get_one(Image, case.image_id).file_path)
                return paths

        return self._guard(run)

    def progress_text(self) -> str:
        """How many cases wait for the adjudicator."""

        def run() -> str:
            with self.database.reading() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                user = user_repo.get_user(session, self.login)
                count = len(campaigns.adjudication_worklist(session, campaign, user))
                return f"{count} case{'s' if count != 1 else ''} awaiting adjudication"

        return self._guard(run)

    def _require_current(self, sop_instance_uid: str) -> BlindedCase:
        case = self.current_case()
        if case is None or case.sop_instance_uid != sop_instance_uid:
            raise ReadLockedError("This case is signed and locked; it can no longer be changed.")
        return case

    # ---------------------------------------------------------------------------------------- reads
    def load_read(self, sop_instance_uid: str, reader: str) -> StoredRead | None:
        """The adjudicator's own third read of the current case, or None."""
        if reader != self.login:
            raise PermissionDeniedError("Only your own reads can be opened.")
        case = self._require_current(sop_instance_uid)

        def run() -> StoredRead | None:
            with self.database.reading() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                user = user_repo.get_user(session, reader)
                for read in campaigns.case_reads(session, campaign, case.case_code, user):
                    if read.reader_id == user.id:
                        return StoredRead(read_repo.read_content(read), read.status == ReadStatus.SIGNED)
                return None

        return self._guard(run)

    def save_draft(self, content: LandmarkFile) -> None:
        """Save the adjudicator's third read of the current case as a draft."""
        self.check(Action.ADJUDICATE)
        case = self._require_current(content.sop_instance_uid)

        def run() -> None:
            with self.database.transaction() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                user = user_repo.get_user(session, self.login)
                campaigns.save_adjudication_read(session, campaign, user, case.case_code, content)

        self._guard(run)

    def sign(self, content: LandmarkFile, password: str) -> None:
        """Refused: a third read is signed with a reason (`sign_third_read`)."""
        raise PermissionDeniedError("A third read is signed as final with a reason.")

    def sign_third_read(self, content: LandmarkFile, password: str, reason: str) -> None:
        """Save and sign the third read and select it as the case's final read (one transaction)."""
        self.check(Action.ADJUDICATE)
        case = self._require_current(content.sop_instance_uid)

        def run() -> None:
            with self.database.transaction() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                user = user_repo.get_user(session, self.login)
                campaigns.save_adjudication_read(session, campaign, user, case.case_code, content)
                session.flush()
                campaigns.sign_adjudication_read(
                    session, campaign, user, case.case_code, password=password, reason=reason
                )

        self._guard(run)

    def choose_read(self, case_code: str, role: CampaignRole, password: str, reason: str) -> None:
        """Select a reader's read as the case's final read."""
        self.check(Action.ADJUDICATE)

        def run() -> None:
            with self.database.transaction() as session:
                campaign = campaigns.get_campaign(session, self.campaign_code)
                user = user_repo.get_user(session, self.login)
                campaigns.choose_reader_read(
                    session, campaign, user, case_code, role=role, reason=reason, password=password
                )

        self._guard(run)
